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
    /// In a mass-message task the platform created; posted only once the group's owner confirms it
    /// (docs/customer-groups.md).
    case awaitingConfirmation = "awaiting_confirmation"
    /// The platform didn't post it: the group had had its quota of mass messages.
    case quotaRefused = "quota_refused"
    /// The platform didn't post it: the group is no longer the member's customer group (left, not a friend).
    case notDelivered = "not_delivered"
    /// The member didn't confirm the task in time; it was cancelled and nothing was posted.
    case expired

    /// No more sending will happen without an operator.
    public var isFinal: Bool {
        switch self {
        case .planned, .claimed, .retry, .awaitingConfirmation: false
        case .sent, .accepted, .dead, .inDoubt, .cancelled, .quotaRefused, .notDelivered, .expired: true
        }
    }
}
