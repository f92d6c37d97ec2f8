import Foundation
import GridcastCore
import PostgresNIO

/// The operator's bulk actions (``LedgerQueries``): retrying dead deliveries and cancelling unsent ones. Each is one
/// transaction that checks the whole selection first, changes the rows whose state allows it and logs them in one
/// event under the operator's name, as on SQLite.
extension PostgresLedgerStore {
    public func retry(
        _ selection: DeliverySelection, by operatorName: String, note: String, at: Date
    ) async throws -> OperatorActionResult {
        let result = try await act(
            on: selection, from: [.dead], namedMustMatch: true, kind: .retry, by: operatorName, at: at,
            // The same row again: due now with every attempt back; confirmed parts stay confirmed.
            set: "state = 'retry', attempts = 0",
            record: OperatorSelection.record("retried", by: operatorName, note: note)
        )
        await workArrived()
        return result
    }

    public func cancel(
        _ selection: DeliverySelection, by operatorName: String, note: String, at: Date
    ) async throws -> OperatorActionResult {
        try await act(
            on: selection, from: [.planned, .retry], namedMustMatch: false, kind: .cancel, by: operatorName, at: at,
            set: "state = 'cancelled'",
            record: OperatorSelection.record("cancelled", by: operatorName, note: note)
        )
    }

    /// Moves the selected deliveries in one of `states` with `assignment` (literal SQL; `next_at` becomes `at`),
    /// setting `last_error` to `record`. With `namedMustMatch`, a named group in another state refuses the action.
    private func act(
        on selection: DeliverySelection, from states: [DeliveryState], namedMustMatch: Bool, kind: LedgerEventKind,
        by operatorName: String, at: Date, set assignment: String, record: String
    ) async throws -> OperatorActionResult {
        try await write { tx in
            let noticeID = selection.noticeID
            guard try await tx.row("SELECT 1 FROM notices WHERE id = \(noticeID)") != nil else {
                throw LedgerError.invalid("no notice \(noticeID) in the ledger")
            }
            // Locked, so that the states checked are the states changed and no claim takes a row in between
            // (SQLite's write lock does this there); claims skip locked rows.
            let rows = try await tx.rows(
                """
                SELECT \(unescaped: PostgresDeliveryRows.columns) FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE d.notice_id = \(noticeID) ORDER BY d.pos FOR UPDATE OF d
                """
            ).map(PostgresDeliveryRows.record(from:))
            let decided = try OperatorSelection(selection, rows: rows, from: states, namedMustMatch: namedMustMatch)
            let (chosen, unchanged) = (decided.chosen, decided.unchanged)
            guard !chosen.isEmpty else { return OperatorActionResult(changed: [], unchanged: unchanged) }
            let millis = at.ledgerMillis
            let inStates = states.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            let columns = PostgresSchema.imageColumns["deliveries"]!
            // The images in planning order; `pos` is returned only to sort them.
            let updated = try await tx.rows(
                """
                WITH changed AS (
                    UPDATE deliveries SET \(unescaped: assignment), next_at = \(millis), last_error = \(record),
                        updated_at = \(millis)
                    WHERE id = ANY(\(chosen.map(\.id))) AND state IN (\(unescaped: inStates))
                    RETURNING pos, \(unescaped: columns))
                SELECT \(unescaped: columns) FROM changed ORDER BY pos
                """)
            try await EventLog.append(
                tx, kind: kind, actor: operatorName, at: at,
                images: try updated.map { try PostgresImageWriter.image(table: "deliveries", of: $0) })
            let changedIDs = Set(try updated.map { try $0.makeRandomAccess()["id"].decode(String.self) })
            let changed = try await tx.rows(
                """
                SELECT \(unescaped: PostgresDeliveryRows.columns) FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE d.id = ANY(\(Array(changedIDs))) ORDER BY d.pos
                """
            ).map(PostgresDeliveryRows.record(from:))
            return OperatorActionResult(changed: changed, unchanged: unchanged)
        }
    }
}
