import Foundation

extension PlanEvents {
    /// Logs the waiting images and a chunk of deliveries already written in `json`, if any, as one event; nothing
    /// when both are empty.
    mutating func append(_ tx: PostgresTransaction, json chunk: CanonicalJSON = CanonicalJSON()) async throws {
        try await EventLog.append(tx, kind: kind, actor: actor, at: at, json: take(with: chunk))
    }
}
