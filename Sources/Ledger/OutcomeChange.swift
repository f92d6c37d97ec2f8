import Foundation

/// What recording one outcome sets on its delivery row, and the change image its event logs: every value is known
/// from the outcome and its claim, so nothing has to be read back.
struct OutcomeChange {
    /// The new state.
    let state: DeliveryState
    /// The next attempt's time for a retry; nil leaves `next_at` as it was.
    let nextAt: Int64?
    /// Attempts spent: the claim's, less a refunded one.
    let attempts: Int
    /// When it was sent; nil leaves `sent_at` as it was.
    let sentAt: Int64?
    /// Why it didn't go out; nil when sent.
    let error: String?
    /// The columns set, with the key, as the event records them.
    let image: RowImage

    init(_ outcome: DeliveryOutcome) {
        var state = DeliveryState.sent
        var nextAt: Int64?
        var refund = 0
        switch outcome.result {
        case .sent: state = .sent
        case .dead: state = .dead
        case .inDoubt, .deferred: state = .inDoubt
        case .retry(let date, let refundAttempt):
            state = .retry
            nextAt = date.ledgerMillis
            refund = refundAttempt ? 1 : 0
        }
        let at = outcome.at.ledgerMillis
        self.state = state
        self.nextAt = nextAt
        attempts = outcome.claim.attempts - refund
        sentAt = state == .sent ? at : nil
        // Stored as it reads back: SQLite text is read up to its first NUL, so it is cut there before it is written.
        error = state == .sent ? nil : outcome.error.map { String($0.prefix { $0 != "\u{0}" }) }
        // In canonical (byte) order of the column names.
        var set: [(String, LedgerValue)] = [
            ("attempts", .integer(Int64(attempts))), ("id", .text(outcome.claim.id)),
            ("last_error", error.map(LedgerValue.text) ?? .null), ("lease_owner", .null), ("lease_until", .null),
        ]
        if let nextAt { set.append(("next_at", .integer(nextAt))) }
        set += [("part_in_flight", .null), ("parts_sent", .integer(Int64(outcome.partsSent)))]
        if let sentAt { set.append(("sent_at", .integer(sentAt))) }
        set += [("state", .text(state.rawValue)), ("updated_at", .integer(at))]
        image = RowImage(table: "deliveries", columns: set.map(\.0), values: set.map(\.1), isChange: true)
    }
}
