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

    /// Logs the waiting images and a chunk of deliveries (read back as `rows`, or already `encoded`), if any, as one
    /// event; nothing when all are empty.
    mutating func append(_ db: Database, encoded: [UInt8] = [], rows: ReturnedRows? = nil) throws {
        try EventLog.append(db, kind: kind, actor: actor, at: at, images: images, encoded: encoded, rows: rows)
        images = []
    }
}
