import Foundation
import GRDB
import GridcastCore

/// The operator's bulk actions (``LedgerQueries``): retrying dead deliveries and cancelling unsent ones. Each is one
/// transaction that checks the whole selection first, changes the rows whose state allows it and logs them in one
/// event under the operator's name.
extension SQLiteLedgerStore {
    public func retry(
        _ selection: DeliverySelection, by operatorName: String, note: String, at: Date
    ) async throws -> OperatorActionResult {
        let result = try await act(
            on: selection, from: [.dead], namedMustMatch: true, kind: .retry, by: operatorName, at: at,
            // The same row again: due now with every attempt back; confirmed parts stay confirmed.
            set: "state = 'retry', next_at = ?, attempts = 0",
            record: OperatorSelection.record("retried", by: operatorName, note: note)
        )
        await wakeupHub.signal()
        return result
    }

    public func cancel(
        _ selection: DeliverySelection, by operatorName: String, note: String, at: Date
    ) async throws -> OperatorActionResult {
        try await act(
            on: selection, from: [.planned, .retry], namedMustMatch: false, kind: .cancel, by: operatorName, at: at,
            set: "state = 'cancelled', next_at = ?",
            record: OperatorSelection.record("cancelled", by: operatorName, note: note)
        )
    }

    /// Moves the selected deliveries in one of `states` with `assignment` (which takes `at` as its one argument),
    /// setting `last_error` to `record`. With `namedMustMatch`, a named group in another state refuses the action.
    private func act(
        on selection: DeliverySelection, from states: [DeliveryState], namedMustMatch: Bool, kind: LedgerEventKind,
        by operatorName: String, at: Date, set assignment: String, record: String
    ) async throws -> OperatorActionResult {
        try await write { db in
            let noticeID = selection.noticeID
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM notices WHERE id = ?", arguments: [noticeID]) != nil
            else {
                throw LedgerError.invalid("no notice \(noticeID) in the ledger")
            }
            let query = "\(Self.recordSelect) WHERE d.notice_id = ? ORDER BY d.rowid"
            let rows = try Row.fetchAll(db, sql: query, arguments: [noticeID]).map(Self.record(from:))
            let decided = try OperatorSelection(selection, rows: rows, from: states, namedMustMatch: namedMustMatch)
            let (chosen, unchanged) = (decided.chosen, decided.unchanged)
            guard !chosen.isEmpty else { return OperatorActionResult(changed: [], unchanged: unchanged) }
            let ids = String(decoding: try JSONEncoder().encode(chosen.map(\.id)), as: UTF8.self)
            let millis = at.ledgerMillis
            let updated = try Row.fetchAll(
                db,
                sql: """
                    UPDATE deliveries SET \(assignment), last_error = ?, updated_at = ?
                    WHERE id IN (SELECT value FROM json_each(?)) AND \(StateCondition.any(of: states))
                    RETURNING *
                    """,
                arguments: [millis, record, millis, ids]
            )
            try EventLog.append(
                db, kind: kind, actor: operatorName, at: at,
                images: updated.map { RowImage(table: "deliveries", row: $0) })
            let changedIDs = Set(updated.map { $0["id"] as String })
            let changed = try Row.fetchAll(db, sql: query, arguments: [noticeID]).map(Self.record(from:)).filter {
                changedIDs.contains($0.id)
            }
            return OperatorActionResult(changed: changed, unchanged: unchanged)
        }
    }
}
