import Foundation

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

    /// The waiting images and a chunk of deliveries already written in `json` as one event's payload (empty when
    /// both are), the waiting images cleared: each store appends it in its own transaction.
    mutating func take(with chunk: CanonicalJSON) -> CanonicalJSON {
        var json = CanonicalJSON(reservingCapacity: images.count * 480 + chunk.written.count)
        for image in images { json.append(image) }
        json.append(written: chunk.written)
        images = []
        return json
    }
}
