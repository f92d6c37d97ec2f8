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
        sentAt = state == .sent ? at : nil
        // Stored as it reads back: SQLite text is read up to its first NUL, so it is cut there before it is written.
        error = state == .sent ? nil : outcome.error.map { String($0.prefix { $0 != "\u{0}" }) }
    }

    /// Appends the change image its event logs — the columns set, with the key — as canonical JSON
    /// (`{"set":{…},"table":"deliveries"}`, keys in byte order), written straight from the values: every outcome of
    /// a fan-out goes through here.
    func appendImage(of outcome: DeliveryOutcome, to out: inout [UInt8]) {
        func key(_ name: StaticString) {
            out.append(UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: #"":"#.utf8)
        }
        out.append(contentsOf: #"{"set":{"attempts":"#.utf8)
        EventLog.appendInteger(Int64(attempts), to: &out)
        key("id")
        EventLog.appendString(outcome.claim.id, to: &out)
        key("last_error")
        if let error { EventLog.appendString(error, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","lease_owner":null,"lease_until":null"#.utf8)
        if let nextAt {
            key("next_at")
            EventLog.appendInteger(nextAt, to: &out)
        }
        out.append(contentsOf: #","part_in_flight":null,"parts_sent":"#.utf8)
        EventLog.appendInteger(Int64(outcome.partsSent), to: &out)
        if let sentAt {
            key("sent_at")
            EventLog.appendInteger(sentAt, to: &out)
        }
        key("state")
        EventLog.appendString(state.rawValue, to: &out)
        key("updated_at")
        EventLog.appendInteger(outcome.at.ledgerMillis, to: &out)
        out.append(contentsOf: #"},"table":"deliveries"}"#.utf8)
    }
}
