import Foundation
import GridcastCore

/// A notice with its planned deliveries, to be recorded in one transaction.
public struct Plan: Sendable {
    /// The notice.
    public var notice: Notice
    /// The selector it was sent with, for the audit trail.
    public var selector: String
    /// Where it came from (`cli`, `api`, `schedule:ID`).
    public var origin: String
    /// One target per selected group.
    public var targets: [PlanTarget]
    /// When it was planned.
    public var now: Date

    /// Creates a plan.
    public init(notice: Notice, selector: String, origin: String, targets: [PlanTarget], now: Date) {
        self.notice = notice
        self.selector = selector
        self.origin = origin
        self.targets = targets
        self.now = now
    }
}

/// One group a notice is planned for.
public struct PlanTarget: Sendable, Hashable {
    /// The group's id.
    public var groupID: String
    /// The group's name at planning time, for reports.
    public var groupName: String
    /// The group's sink.
    public var sink: String
    /// How many parts the notice needs on that platform.
    public var parts: Int
    /// When it may first be sent.
    public var notBefore: Date?
    /// What this group will get short of the whole notice, known when it is planned ("poster not shown: …"); kept
    /// with the delivery for reports and audits (docs/rich-notices.md).
    public var note: String?
    /// A customer group's mass-message quota: the delivery is recorded `quota_refused` instead of planned when the
    /// group has had its quota (docs/customer-groups.md).
    public var allowance: MassMessageAllowance?

    /// Creates a target.
    public init(
        groupID: String, groupName: String, sink: String, parts: Int = 1, notBefore: Date? = nil, note: String? = nil
    ) {
        self.groupID = groupID
        self.groupName = groupName
        self.sink = sink
        self.parts = parts
        self.notBefore = notBefore
        self.note = note
    }
}

/// How many mass messages a customer group may still receive: at most `limit` since `since`.
public struct MassMessageAllowance: Sendable, Hashable {
    /// The start of the quota's current period.
    public var since: Date
    /// How many the period allows.
    public var limit: Int
    /// The rule as the config writes it (`days-of-month`, `7/week`, `1/day`), for the refusal's reason.
    public var rule: String

    /// Creates an allowance.
    public init(since: Date, limit: Int, rule: String) {
        self.since = since
        self.limit = limit
        self.rule = rule
    }
}

/// What planning did.
public struct PlanResult: Sendable, Equatable {
    /// True when the notice was new.
    public var created: Bool
    /// Deliveries added by this plan.
    public var added: Int
    /// Deliveries of this notice in all.
    public var total: Int
    /// When the notice was first recorded.
    public var createdAt: Date
    /// The customer groups this plan recorded `quota_refused`, with why.
    public var quotaRefused: [String: String] = [:]

    /// Creates a result.
    public init(created: Bool, added: Int, total: Int, createdAt: Date) {
        self.created = created
        self.added = added
        self.total = total
        self.createdAt = createdAt
    }
}

/// A notice as stored.
public struct StoredNotice: Sendable, Equatable {
    /// The notice content.
    public var notice: Notice
    /// Its content hash.
    public var contentHash: String
    /// The selector it was planned with.
    public var selector: String
    /// Where it came from.
    public var origin: String
    /// When it was first recorded.
    public var createdAt: Date
}

/// What a dispatcher asks for when it claims work.
public struct ClaimRequest: Sendable {
    /// The claimer's lease owner id.
    public var owner: String
    /// The most deliveries to claim.
    public var limit: Int
    /// Only deliveries of this notice (the `send` command), or all (the daemon).
    public var noticeID: String?
    /// The current time.
    public var now: Date
    /// Per-request timeout; a lease lasts `timeout × remaining parts + margin`.
    public var timeout: Duration
    /// The safety margin on top of the request time.
    public var leaseMargin: Duration

    /// Creates a claim request.
    public init(
        owner: String, limit: Int, noticeID: String?, now: Date, timeout: Duration, leaseMargin: Duration = .seconds(60)
    ) {
        self.owner = owner
        self.limit = limit
        self.noticeID = noticeID
        self.now = now
        self.timeout = timeout
        self.leaseMargin = leaseMargin
    }
}

/// A delivery this process now holds the lease on.
public struct ClaimedDelivery: Sendable, Hashable {
    /// The delivery's stable id.
    public var id: String
    /// The notice.
    public var noticeID: String
    /// The group.
    public var groupID: String
    /// The claim's fencing token: completion must match it.
    public var claimSeq: Int
    /// Attempts spent, this one included.
    public var attempts: Int
    /// Parts in all, and parts already confirmed (resume at `partsSent + 1`).
    public var partsTotal: Int
    public var partsSent: Int
    /// The owner that holds the lease.
    public var owner: String
    /// When the lease runs out; the holder must renew it before sending past this point.
    public var leaseUntil: Date
    /// When the store made (or last confirmed) the claim, on the holder's clock.
    public var confirmedAt: Date? = nil
    /// How long the claim may go unconfirmed before a request leaves on it: a shared ledger ends the claims of an
    /// instance that stops beating sooner than their leases, so a holder that was paused longer than this confirms
    /// (renews, fenced) first. Nil when the lease alone decides (``InstanceLedger``).
    public var confirmEvery: Duration? = nil
}

/// How a claimed delivery ended, to be recorded (fenced on claim sequence and owner).
public struct DeliveryOutcome: Sendable {
    /// What to write.
    public enum Result: Sendable, Equatable {
        /// Every part confirmed.
        case sent
        /// Every part accepted, at least one without the platform confirming it was posted: final, never resent.
        case accepted
        /// Try again at the given time. `refundAttempt` for rate-limit answers, which don't spend one.
        case retry(at: Date, refundAttempt: Bool)
        /// Never again.
        case dead
        /// Outcome unknown.
        case inDoubt
        /// Not sent at all (its bot is paced or paused): back to `planned` (or `retry` after earlier attempts)
        /// until the given time, with this claim's attempt refunded.
        case deferred(until: Date)
    }

    /// The claim this outcome ends.
    public var claim: ClaimedDelivery
    /// The new state.
    public var result: Result
    /// Parts confirmed so far.
    public var partsSent: Int
    /// Why, when not sent (secret-free).
    public var error: String?
    /// When it happened.
    public var at: Date

    /// Creates an outcome.
    public init(claim: ClaimedDelivery, result: Result, partsSent: Int, error: String?, at: Date) {
        self.claim = claim
        self.result = result
        self.partsSent = partsSent
        self.error = error
        self.at = at
    }
}

/// One delivery as stored: the row of `ledger list` and of reports.
public struct DeliveryRecord: Sendable, Equatable, Codable {
    public var id: String
    public var noticeID: String
    public var noticeTitle: String
    public var groupID: String
    public var groupName: String
    public var sink: String
    public var state: DeliveryState
    public var attempts: Int
    public var partsTotal: Int
    public var partsSent: Int
    public var plannedAt: Date
    public var firstAttemptAt: Date?
    public var lastAttemptAt: Date?
    public var sentAt: Date?
    /// The time of the latest state change: decides which day the delivery counts on.
    public var updatedAt: Date
    public var nextAt: Date?
    public var leaseOwner: String?
    public var leaseUntil: Date?
    public var lastError: String?
    /// What the group gets short of the whole notice (a poster it can't show), decided at planning; nil: all of it.
    public var note: String?
    /// The notice's poster (without its bytes), when it has one; filled by listings.
    public var poster: PosterSummary?
    /// The notice's link card, when it has one; filled by listings.
    public var link: LinkCard?

    /// Creates a record (the store builds them from rows; tests and tools build them directly).
    public init(
        id: String, noticeID: String, noticeTitle: String, groupID: String, groupName: String, sink: String,
        state: DeliveryState, attempts: Int, partsTotal: Int, partsSent: Int, plannedAt: Date, firstAttemptAt: Date?,
        lastAttemptAt: Date?, sentAt: Date?, updatedAt: Date, nextAt: Date?, leaseOwner: String?, leaseUntil: Date?,
        lastError: String?, note: String? = nil, poster: PosterSummary? = nil, link: LinkCard? = nil
    ) {
        self.id = id
        self.noticeID = noticeID
        self.noticeTitle = noticeTitle
        self.groupID = groupID
        self.groupName = groupName
        self.sink = sink
        self.state = state
        self.attempts = attempts
        self.partsTotal = partsTotal
        self.partsSent = partsSent
        self.plannedAt = plannedAt
        self.firstAttemptAt = firstAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.sentAt = sentAt
        self.updatedAt = updatedAt
        self.nextAt = nextAt
        self.leaseOwner = leaseOwner
        self.leaseUntil = leaseUntil
        self.lastError = lastError
        self.note = note
        self.poster = poster
        self.link = link
    }
}

/// A notice's poster as the ledger lists it: its identity, not its bytes (docs/rich-notices.md).
public struct PosterSummary: Sendable, Equatable, Codable {
    /// Lower-case hex SHA-256 of the image: its key in the ledger.
    public var sha256: String
    /// `png` or `jpeg`.
    public var format: String
    /// The image's size in bytes.
    public var size: Int
    /// Its public https address, when given.
    public var url: String?

    /// Creates a summary.
    public init(sha256: String, format: String, size: Int, url: String?) {
        self.sha256 = sha256
        self.format = format
        self.size = size
        self.url = url
    }

    /// The summary of `poster`.
    public init(_ poster: Poster) {
        self.init(sha256: poster.sha256, format: poster.format.rawValue, size: poster.bytes.count, url: poster.url)
    }
}

/// What is left to do for a set of deliveries.
public struct PendingStatus: Sendable, Equatable {
    /// Planned or retry, due now.
    public var dueNow: Int
    /// Planned or retry, due later; the earliest time.
    public var later: Int
    public var nextDueAt: Date?
    /// Claimed (by anyone); the earliest lease expiry.
    public var claimed: Int
    public var nextLeaseExpiry: Date?

    /// Nothing left that any dispatcher would send.
    public var isSettled: Bool { dueNow == 0 && later == 0 && claimed == 0 }

    public init(dueNow: Int = 0, later: Int = 0, nextDueAt: Date? = nil, claimed: Int = 0, nextLeaseExpiry: Date? = nil)
    {
        self.dueNow = dueNow
        self.later = later
        self.nextDueAt = nextDueAt
        self.claimed = claimed
        self.nextLeaseExpiry = nextLeaseExpiry
    }
}

/// A claim whose lease expired or whose owner died, and what became of it.
public struct ExpiredLease: Sendable, Equatable {
    /// The delivery.
    public var deliveryID: String
    /// The owner whose claim ended.
    public var owner: String
    /// `in_doubt`, or `retry` under `dispatch.in_doubt: resend`.
    public var newState: DeliveryState

    /// Creates a record of an expired lease.
    public init(deliveryID: String, owner: String, newState: DeliveryState) {
        self.deliveryID = deliveryID
        self.owner = owner
        self.newState = newState
    }
}

/// One firing of a schedule, recorded once (schedule id and fire time are unique).
public struct Firing: Sendable, Equatable {
    /// What happened.
    public enum Outcome: String, Sendable {
        /// Planned its notices.
        case fired
        /// Not run: missed beyond `catch_up`, superseded by a later missed firing, or nothing to send.
        case skipped
    }

    public var scheduleID: String
    /// The cron time it is for.
    public var fireAt: Date
    public var outcome: Outcome
    /// Why, in a few words.
    public var note: String
    /// When it was recorded.
    public var recordedAt: Date

    public init(scheduleID: String, fireAt: Date, outcome: Outcome, note: String, recordedAt: Date) {
        self.scheduleID = scheduleID
        self.fireAt = fireAt
        self.outcome = outcome
        self.note = note
        self.recordedAt = recordedAt
    }
}

/// Which deliveries `ledger list` shows; every field narrows the selection.
public struct DeliveryFilter: Sendable, Equatable {
    /// Latest state change in `[start, end)`.
    public var changedFrom: Date?
    public var changedBefore: Date?
    public var noticeID: String?
    public var groupID: String?
    public var state: DeliveryState?
    /// Only the deliveries that come after this one (a delivery id) in listing order: the next page.
    public var after: String?
    /// At most this many, the first in listing order.
    public var limit: Int?

    public init(
        changedFrom: Date? = nil, changedBefore: Date? = nil, noticeID: String? = nil, groupID: String? = nil,
        state: DeliveryState? = nil, after: String? = nil, limit: Int? = nil
    ) {
        self.changedFrom = changedFrom
        self.changedBefore = changedBefore
        self.noticeID = noticeID
        self.groupID = groupID
        self.state = state
        self.after = after
        self.limit = limit
    }
}

/// How an operator settles an `in_doubt` delivery.
public enum Resolution: String, Sendable, CaseIterable {
    /// The operator saw the message in the group: it counts as sent.
    case sent
    /// The operator found it missing: send it again now.
    case resend
}

/// What ``LedgerStore/settle(_:claiming:)`` did.
public struct Settlement: Sendable, Equatable {
    /// The ids of outcomes whose claim was lost (fenced out): nothing was recorded for them.
    public var lost: [String]
    /// The deliveries newly claimed.
    public var claimed: [ClaimedDelivery]

    /// Creates a settlement.
    public init(lost: [String], claimed: [ClaimedDelivery]) {
        self.lost = lost
        self.claimed = claimed
    }
}

/// Which of one notice's deliveries an operator's action (``LedgerQueries/retry(_:by:note:at:)``,
/// ``LedgerQueries/cancel(_:by:note:at:)``) is for.
public struct DeliverySelection: Sendable, Equatable {
    /// The notice.
    public var noticeID: String
    /// These groups only; every group of the notice when empty.
    public var groupIDs: [String]

    /// Creates a selection: the notice's deliveries to `groupIDs`, or all of them.
    public init(noticeID: String, groupIDs: [String] = []) {
        self.noticeID = noticeID
        self.groupIDs = groupIDs
    }
}

/// What an operator's action did to the deliveries it selected.
public struct OperatorActionResult: Sendable, Equatable {
    /// The deliveries it changed, as they are now.
    public var changed: [DeliveryRecord]
    /// The selected deliveries it left as they were, because their state doesn't allow it (e.g. claimed: in flight).
    public var unchanged: [DeliveryRecord]

    /// Creates a result.
    public init(changed: [DeliveryRecord], unchanged: [DeliveryRecord]) {
        self.changed = changed
        self.unchanged = unchanged
    }
}
