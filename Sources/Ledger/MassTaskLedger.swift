import Foundation

/// The ledger's side of mass-message tasks (docs/customer-groups.md): customer-group deliveries are batched into
/// tasks, claimed and committed before the platform is asked to create them, and move only on what the platform
/// reports. Every requirement is one transaction, fenced on the task's claim like a delivery's.
public protocol MassTaskLedger: Sendable {
    /// Claims due deliveries of `request.sink` in at most `request.batches` batches (one notice, one app, one member,
    /// at most `request.batchSize` groups), each recorded as a task being created; deliveries of groups `request.key`
    /// no longer knows end `dead`.
    func claimTaskBatches(_ request: TaskClaimRequest) async throws -> [TaskClaim]
    /// Claims tasks that need a call now: open ones due for a poll, and ones whose creation was interrupted (their
    /// claim expired while `creating`), which must be found again before anything else.
    func claimDueTasks(leaseOwner: String, now: Date, lease: Duration, limit: Int) async throws -> [OpenTask]
    /// Records what the platform said about a claimed task; false when the claim was lost.
    func recordTask(_ task: TaskHandle, _ update: TaskUpdate, at: Date) async throws -> Bool
}

/// The deliveries a task claim may take, and how to batch them.
public struct TaskClaimRequest: Sendable {
    /// The channel's `sink:` name.
    public var sink: String
    /// The process claiming.
    public var leaseOwner: String
    /// Now.
    public var now: Date
    /// How long the claim holds before another process may take the task over (and must reconcile it).
    public var lease: Duration
    /// The most groups in one task.
    public var batchSize: Int
    /// The most batches one claim takes: one, so that a crash during a create call leaves only that batch to be
    /// found again, not batches whose calls were never made.
    public var batches = 1
    /// The app and member that send to a group; nil when the group is no longer configured.
    public var key: @Sendable (String) -> TaskKey?

    /// Creates a request.
    public init(
        sink: String, leaseOwner: String, now: Date, lease: Duration, batchSize: Int,
        key: @escaping @Sendable (String) -> TaskKey?
    ) {
        self.sink = sink
        self.leaseOwner = leaseOwner
        self.now = now
        self.lease = lease
        self.batchSize = batchSize
        self.key = key
    }
}

/// Who sends a task: the app and its member (the groups' owner, who confirms it).
public struct TaskKey: Sendable, Hashable {
    /// The app's id.
    public var app: String
    /// The member's userid.
    public var member: String

    /// Creates a key.
    public init(app: String, member: String) {
        self.app = app
        self.member = member
    }
}

/// One delivery in a task.
public struct TaskDelivery: Sendable, Hashable {
    /// The delivery's id.
    public var id: String
    /// Its group.
    public var groupID: String

    /// Creates one.
    public init(id: String, groupID: String) {
        self.id = id
        self.groupID = groupID
    }
}

/// A claim on a task: what fences every change to it.
public struct TaskHandle: Sendable, Hashable {
    /// The task's id in the ledger.
    public var id: Int64
    /// The claim's sequence number.
    public var claimSeq: Int
    /// The process holding it.
    public var leaseOwner: String

    /// Creates a handle.
    public init(id: Int64, claimSeq: Int, leaseOwner: String) {
        self.id = id
        self.claimSeq = claimSeq
        self.leaseOwner = leaseOwner
    }
}

/// A batch claimed to be created as one task: nothing has been asked of the platform yet.
public struct TaskClaim: Sendable {
    /// The claim.
    public var handle: TaskHandle
    /// The notice.
    public var noticeID: String
    /// Who sends it.
    public var key: TaskKey
    /// When it was claimed: the start of the window a lost answer is looked for in.
    public var createdAt: Date
    /// Its deliveries, in plan order.
    public var deliveries: [TaskDelivery]
}

/// A task that needs a call: a poll, a reminder, its cancellation, or finding it again.
public struct OpenTask: Sendable {
    /// Where a task stands.
    public enum State: String, Sendable {
        /// Its creation was interrupted: whether the platform created it is not known yet.
        case creating
        /// Created: waiting for the member and the platform's per-group results.
        case open
    }

    /// The claim.
    public var handle: TaskHandle
    /// The notice.
    public var noticeID: String
    /// Who sends it.
    public var key: TaskKey
    /// Open, or to be found again.
    public var state: State
    /// The platform's id of the task, once created.
    public var msgid: String?
    /// When its creation was claimed.
    public var createdAt: Date
    /// When an unconfirmed task is cancelled.
    public var deadline: Date?
    /// Reminders sent so far.
    public var reminders: Int
    /// Whether it was cancelled (results are still read once after).
    public var cancelled: Bool
    /// Its deliveries still waiting for a result (claimed while `creating`, `awaiting_confirmation` when open).
    public var waiting: [TaskDelivery]
    /// The platform ids of the other tasks of the same notice, app and member: a task being found again is none of
    /// them.
    public var siblingMessageIDs: Set<String> = []
}

/// What the platform said about a task, to record.
public struct TaskUpdate: Sendable {
    /// The task was created (or found again) under this id: its claimed deliveries now await the member.
    public var created: (msgid: String, deadline: Date)?
    /// Results by delivery id.
    public var results: [String: TaskResult] = [:]
    /// A reminder was sent.
    public var reminded = false
    /// The task was cancelled.
    public var cancelled = false
    /// The platform refused to create it, or it was not found again: the task ends and its waiting deliveries
    /// take this result.
    public var ended: TaskResult?
    /// When the task needs its next call; ignored when nothing waits any more.
    public var nextAt: Date?
    /// What went wrong last, for the operator (secret-free).
    public var error: String?

    /// Creates an empty update.
    public init() {}
}

/// What became of one delivery of a task.
public enum TaskResult: Sendable, Equatable {
    /// Posted, at the platform's time.
    case sent(at: Date)
    /// Not a friend or no longer in the group.
    case notDelivered
    /// The group had had its quota.
    case quotaRefused
    /// Not confirmed in time; the task was cancelled.
    case expired
    /// Refused for good.
    case dead(String)
    /// Not created: try again at this time.
    case retry(at: Date, String)
    /// Whether it was posted is unknown.
    case inDoubt(String)
}
