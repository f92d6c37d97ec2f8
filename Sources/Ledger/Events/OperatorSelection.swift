import Foundation

/// What an operator's bulk action (`retry`, `cancel`) does to a notice's deliveries, decided the same way by every
/// store from the rows it read (locked) in its transaction: the selected rows in one of `states` change, the others
/// are left as they are, and a named group without a delivery — or, with `namedMustMatch`, in another state —
/// refuses the whole action before anything changes.
struct OperatorSelection {
    /// The rows to change.
    let chosen: [DeliveryRecord]
    /// The selected rows in another state, left as they are.
    let unchanged: [DeliveryRecord]

    /// Decides from `rows`, every delivery of the selection's notice in planning order.
    /// - Throws: ``LedgerError/invalid(_:)`` for a named group without a delivery of the notice, or one in another
    ///   state when `namedMustMatch`.
    init(
        _ selection: DeliverySelection, rows: [DeliveryRecord], from states: [DeliveryState], namedMustMatch: Bool
    ) throws {
        var selected = rows
        if !selection.groupIDs.isEmpty {
            let byGroup = Dictionary(rows.map { ($0.groupID, $0) }, uniquingKeysWith: { first, _ in first })
            var seen = Set<String>()
            selected = []
            for groupID in selection.groupIDs where seen.insert(groupID).inserted {
                guard let row = byGroup[groupID] else {
                    throw LedgerError.invalid("no delivery of notice \(selection.noticeID) to group \(groupID)")
                }
                if namedMustMatch, !states.contains(row.state) {
                    throw LedgerError.invalid(
                        "delivery of notice \(selection.noticeID) to group \(groupID) is \(row.state.rawValue), not "
                            + states.map(\.rawValue).joined(separator: " or ") + ": left as it is")
                }
                selected.append(row)
            }
        }
        chosen = selected.filter { states.contains($0.state) }
        unchanged = selected.filter { !states.contains($0.state) }
    }

    /// What `last_error` records of an operator's action: `retried by NAME: note`.
    static func record(_ verb: String, by operatorName: String, note: String) -> String {
        "\(verb) by \(operatorName)" + (note.isEmpty ? "" : ": \(note)")
    }
}
