import Foundation
import GRDB

extension PlanEvents {
    /// Logs the waiting images and a chunk of deliveries already written in `json`, if any, as one event; nothing
    /// when both are empty.
    mutating func append(_ db: Database, json chunk: CanonicalJSON = CanonicalJSON()) throws {
        try EventLog.append(db, kind: kind, actor: actor, at: at, json: take(with: chunk))
    }
}
