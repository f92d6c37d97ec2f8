import Foundation

/// What recording one outcome sets on its delivery row, and the change image its event logs: every value is known
/// from the outcome and its claim, so nothing has to be read back.
struct OutcomeChange: Sendable {
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

    /// The change an outcome makes; nil for a deferral, which is a hand-back recorded from the row's history
    /// (``OutcomeBatch/Entry/deferral(until:)``), not a change known from the outcome alone.
    init?(_ outcome: DeliveryOutcome) {
        var state = DeliveryState.sent
        var nextAt: Int64?
        var refund = 0
        switch outcome.result {
        case .deferred: return nil
        case .sent: state = .sent
        case .accepted: state = .accepted
        case .dead: state = .dead
        case .inDoubt: state = .inDoubt
        case .retry(let date, let refundAttempt):
            state = .retry
            nextAt = date.ledgerMillis
            refund = refundAttempt ? 1 : 0
        }
        let at = outcome.at.ledgerMillis
        self.state = state
        self.nextAt = nextAt
        attempts = outcome.claim.attempts - refund
        let posted = state == .sent || state == .accepted
        sentAt = posted ? at : nil
        // Stored as it reads back: SQLite text is read up to its first NUL, so it is cut there before it is written.
        error = posted ? nil : outcome.error.map { String($0.prefix { $0 != "\u{0}" }) }
    }

    /// Writes the change image its event logs — the columns set, with the key — to `json`; returns where it is.
    /// Every value is known from the outcome.
    func append(of outcome: DeliveryOutcome, to json: inout CanonicalJSON) -> Range<Int> {
        var values: [LedgerValue] = [
            .integer(Int64(attempts)), .text(outcome.claim.id), error.map(LedgerValue.text) ?? .null, .null, .null,
            .null, .integer(Int64(outcome.partsSent)), .text(state.rawValue), .integer(outcome.at.ledgerMillis),
        ]
        if let nextAt { values.append(.integer(nextAt)) }
        if let sentAt { values.append(.integer(sentAt)) }
        return json.append(Self.layouts[(nextAt == nil ? 0 : 1) + (sentAt == nil ? 0 : 2)], values: values)
    }

    /// The layouts of outcome images, without and with `next_at` (1) and `sent_at` (2), the values in the order of
    /// ``append(of:to:)``.
    private static let layouts = (0..<4).map { variant in
        CanonicalJSON.Layout(
            table: "deliveries",
            columns: [
                "attempts", "id", "last_error", "lease_owner", "lease_until", "part_in_flight", "parts_sent", "state",
                "updated_at",
            ] + (variant & 1 != 0 ? ["next_at"] : []) + (variant & 2 != 0 ? ["sent_at"] : []),
            isChange: true)
    }
}
