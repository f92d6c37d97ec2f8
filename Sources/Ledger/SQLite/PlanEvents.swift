import Foundation
import GRDB

/// The events of one plan or schedule firing, inside its transaction: one event per chunk of inserted deliveries,
/// so a plan of any size holds only one chunk's images in memory. Rows made before a chunk (a notice, a firing)
/// go out with the next event.
struct PlanEvents {
    /// The kind of every event.
    let kind: LedgerEventKind
    /// Who made the change.
    let actor: String
    /// When.
    let at: Date
    /// Images not yet logged.
    var images: [RowImage] = []

    init(kind: LedgerEventKind, actor: String, at: Date) {
        self.kind = kind
        self.actor = actor
        self.at = at
    }

    /// Logs the waiting images and a chunk of deliveries already written in `json`, if any, as one event; nothing
    /// when both are empty.
    mutating func append(_ db: Database, json chunk: CanonicalJSON = CanonicalJSON()) throws {
        var json = CanonicalJSON(reservingCapacity: images.count * 480 + chunk.written.count)
        for image in images { json.append(image) }
        json.append(written: chunk.written)
        try EventLog.append(db, kind: kind, actor: actor, at: at, json: json)
        images = []
    }
}
