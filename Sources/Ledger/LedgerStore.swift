import Foundation
import GridcastCore

/// The send ledger (台帐): the one place that decides what was sent, what is claimed and what is owed.
///
/// Every method is one transaction. Claims are committed before the claimer sends anything; outcomes are fenced on
/// the claim's sequence number and owner, so a claimer that lost its lease can't overwrite what happened since.
/// ``SQLiteLedgerStore`` is the embedded implementation; a PostgreSQL store comes later behind the same protocol.
public protocol LedgerStore: Sendable {
    /// Records the notice (or finds it, when the same id holds the same content) and its planned deliveries.
    /// - Throws: ``LedgerError/conflict(noticeID:)`` when the id holds other content.
    func plan(_ plan: Plan) async throws -> PlanResult

    /// Records a schedule firing and its plans in one transaction; nil (and nothing planned) when that firing was
    /// already recorded, so a firing happens once across restarts and processes.
    func recordFiring(_ firing: Firing, plans: [Plan]) async throws -> [PlanResult]?

    /// The latest recorded firing time of a schedule.
    func lastFiring(scheduleID: String) async throws -> Date?

    /// Every recorded firing of a schedule, oldest first.
    func firings(scheduleID: String) async throws -> [Firing]

    /// For each group, which of these notices it already has (any delivery not `dead`).
    func noticesHad(groupIDs: [String], among noticeIDs: [String]) async throws -> [String: Set<String>]

    /// Claims up to `request.limit` due deliveries (planned, or retry whose time has come) for `request.owner`.
    func claim(_ request: ClaimRequest) async throws -> [ClaimedDelivery]

    /// Records that part `partsSent` of a multi-part delivery was confirmed, so a crash resumes after it.
    /// Returns false when the claim was lost (fenced out).
    func recordProgress(_ claim: ClaimedDelivery, partsSent: Int, at: Date) async throws -> Bool

    /// Marks, durably, that part `part` of a multi-part delivery is about to be sent; returns false when the claim
    /// was lost. A claim that ends with no part marked is known to have ended between parts and is resumed.
    func markPartInFlight(_ claim: ClaimedDelivery, part: Int, at: Date) async throws -> Bool

    /// Extends a claim's lease; returns false when the claim was lost (fenced out), in which case nothing may be sent.
    func renewLease(_ claim: ClaimedDelivery, until: Date) async throws -> Bool

    /// Hands back claims that were never sent (a stopping dispatcher): `planned` again, or `retry` when earlier
    /// attempts exist, with the attempt refunded.
    func release(_ claims: [ClaimedDelivery], at: Date) async throws

    /// Records outcomes in one transaction; returns the ids whose claim was lost (fenced out: zero rows updated).
    func record(_ outcomes: [DeliveryOutcome]) async throws -> [String]

    /// Records outcomes and, in the same transaction (one sync to disk), claims what `request` asks for: what a busy
    /// dispatcher does each time sends finish. The claims are durable before the call returns, as with ``claim(_:)``.
    func settle(_ outcomes: [DeliveryOutcome], claiming request: ClaimRequest?) async throws -> Settlement

    /// Ends claims whose lease expired, or whose owner `isOwnerAlive` says is dead: they become `in_doubt`
    /// (policy `hold`) or `retry` (policy `resend`).
    func expireLeases(
        now: Date, policy: InDoubtPolicy, isOwnerAlive: @Sendable (String) -> Bool
    ) async throws
        -> [ExpiredLease]

    /// What is left to do, for one notice or for all.
    func pending(noticeID: String?, now: Date) async throws -> PendingStatus

    /// A stored notice.
    func notice(id: String) async throws -> StoredNotice?

    /// Stored notices by id.
    func notices(ids: [String]) async throws -> [String: StoredNotice]

    /// Every delivery of a notice, by group id.
    func deliveries(noticeID: String) async throws -> [DeliveryRecord]

    /// A notice's deliveries in the given states, at most `limit` of them.
    func deliveries(noticeID: String, states: Set<DeliveryState>, limit: Int) async throws -> [DeliveryRecord]

    /// How many of a notice's deliveries are in each state.
    func stateCounts(noticeID: String) async throws -> [DeliveryState: Int]

    /// Deliveries matching a filter, by notice then planning order.
    func deliveries(matching filter: DeliveryFilter) async throws -> [DeliveryRecord]

    /// Settles an `in_doubt` delivery as an operator decided, recording who and why; returns the updated row.
    /// - Throws: ``LedgerError/invalid(_:)`` when there is no such delivery or it is not `in_doubt`.
    func resolve(
        noticeID: String, groupID: String, as resolution: Resolution, by operatorName: String, note: String, at: Date
    )
        async throws -> DeliveryRecord

    /// Every delivery whose latest state change happened in `[start, end)`.
    func deliveries(changedFrom start: Date, to end: Date) async throws -> [DeliveryRecord]

    /// The head of the hash-chained event log: the latest event's sequence number and hash (0 and zeros when empty).
    func head() async throws -> LedgerCheckpoint

    /// Takes the ledger's write lock and lets it go without changing anything: throws when the ledger can't be
    /// written now (locked past the busy timeout, its file deleted or replaced). The daemon's liveness probe.
    func checkWritable() async throws

    /// Recomputes the event chain, replays it and compares the result with every row of every ledger table; with
    /// a checkpoint, also proves the log still extends it.
    func verify(checkpoint: LedgerCheckpoint?) async throws -> LedgerVerification
}
