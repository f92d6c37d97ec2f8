/// Where a delivery stands: the state machine of `docs/ledger.md`.
public enum DeliveryState: String, Sendable, CaseIterable, Codable {
    /// Recorded, not yet tried.
    case planned
    /// A dispatcher holds a lease on it and may be sending it now.
    case claimed
    /// The platform confirmed it.
    case sent
    /// The platform accepted it and never confirms posting it (Teams Workflows' 202): final, never resent, counted
    /// apart from `sent`.
    case accepted
    /// Will be tried again at `next_at`.
    case retry
    /// Refused for good, or out of attempts.
    case dead
    /// May or may not have been posted; an operator must look (or `dispatch.in_doubt: resend` retries it).
    case inDoubt = "in_doubt"
    /// Ended unsent by an operator (`ledger cancel`, `DELETE /v1/notices/{id}`): never claimed.
    case cancelled

    /// No more sending will happen without an operator.
    public var isFinal: Bool {
        self == .sent || self == .accepted || self == .dead || self == .inDoubt || self == .cancelled
    }
}
