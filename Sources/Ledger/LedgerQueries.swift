import Foundation

/// What reports, listings, the API and operators read, and the operator's actions: settling deliveries in doubt,
/// retrying dead ones, cancelling unsent ones.
public protocol LedgerQueries: Sendable {
    /// Stored notices by id (those that exist).
    func notices(ids: [String]) async throws -> [String: StoredNotice]

    /// Every delivery of a notice, by group id.
    func deliveries(noticeID: String) async throws -> [DeliveryRecord]

    /// A notice's deliveries in the given states, at most `limit` of them.
    func deliveries(noticeID: String, states: Set<DeliveryState>, limit: Int) async throws -> [DeliveryRecord]

    /// How many of a notice's deliveries are in each state.
    func stateCounts(noticeID: String) async throws -> [DeliveryState: Int]

    /// Deliveries matching a filter, by notice then planning order (notice ids compared bytewise), from the one
    /// after `filter.after` and at most `filter.limit` of them: a listing of any size is read page by page.
    /// - Throws: ``LedgerError/invalid(_:)`` when there is no delivery `filter.after`.
    func deliveries(matching filter: DeliveryFilter) async throws -> [DeliveryRecord]

    /// The deliveries whose latest change falls in one of `days` (consecutive ranges, in order), counted by group,
    /// notice, day and state by the store, with the failures among them; with `groups`, only deliveries to those.
    func tally(days: [Range<Date>], groups: Set<String>?) async throws -> DeliveryTally

    /// Only the per-day part of ``tally(days:groups:)`` for every group: a chart of days, without counting each
    /// group and notice.
    func dayTally(days: [Range<Date>]) async throws -> [DeliveryTally.Day]

    /// The members whose customer groups await their confirmation: deliveries `awaiting_confirmation` that became
    /// so in `[since, until)`, counted per app and member (the task's owner), most groups first.
    func awaitingMembers(since: Date, until: Date) async throws -> [AwaitingMember]

    /// Mass-message tasks the platform created (those with a msgid) whose creation was claimed in `[start, end)`;
    /// with `groups`, only tasks holding a delivery to one of them.
    func tasksCreated(from start: Date, to end: Date, groups: Set<String>?) async throws -> Int

    /// The platform's msgid of the task each of these notices' deliveries went out in, by delivery id (deliveries
    /// not in a created task are left out).
    func taskMessageIDs(noticeIDs: [String]) async throws -> [String: String]

    /// Settles an `in_doubt` delivery as an operator decided, recording who and why; returns the updated row.
    /// - Throws: ``LedgerError/invalid(_:)`` when there is no such delivery or it is not `in_doubt`.
    func resolve(
        noticeID: String, groupID: String, as resolution: Resolution, by operatorName: String, note: String, at: Date
    ) async throws -> DeliveryRecord

    /// Sends the selected `dead` deliveries again: the same rows become `retry`, due at `at`, with no attempts spent,
    /// recording who and why. Without groups it takes every dead delivery of the notice; other states are unchanged.
    /// - Throws: ``LedgerError/invalid(_:)`` for an unknown notice, a group without a delivery of it, or a named
    ///   group whose delivery is not dead; then nothing changed.
    func retry(
        _ selection: DeliverySelection, by operatorName: String, note: String, at: Date
    ) async throws
        -> OperatorActionResult

    /// Ends the selected unsent deliveries (`planned`, `retry`) as `cancelled`, recording who and why, in one
    /// transaction; claimed ones (in flight) and finished ones are left as they are, in `unchanged`.
    /// - Throws: ``LedgerError/invalid(_:)`` for an unknown notice or a group without a delivery of it; then nothing
    ///   changed.
    func cancel(
        _ selection: DeliverySelection, by operatorName: String, note: String, at: Date
    ) async throws
        -> OperatorActionResult
}

extension LedgerQueries {
    /// A stored notice.
    public func notice(id: String) async throws -> StoredNotice? {
        try await notices(ids: [id])[id]
    }

    /// Every delivery whose latest state change happened in `[start, end)`.
    public func deliveries(changedFrom start: Date, to end: Date) async throws -> [DeliveryRecord] {
        try await deliveries(matching: DeliveryFilter(changedFrom: start, changedBefore: end))
    }
}

/// A member with customer groups awaiting their confirmation (``LedgerQueries/awaitingMembers(since:until:)``).
public struct AwaitingMember: Sendable, Equatable, Codable {
    /// The app's id.
    public var app: String
    /// The member's userid (the tasks' owner).
    public var member: String
    /// Deliveries still awaiting the member.
    public var groups: Int
    /// When the oldest of their tasks was created.
    public var oldestTaskCreatedAt: Date

    /// Creates an entry.
    public init(app: String, member: String, groups: Int, oldestTaskCreatedAt: Date) {
        self.app = app
        self.member = member
        self.groups = groups
        self.oldestTaskCreatedAt = oldestTaskCreatedAt
    }
}
