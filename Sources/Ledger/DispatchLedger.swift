import Foundation
import GridcastCore

/// The dispatcher's side of the ledger: claims committed before anything is sent, and fenced writes of what
/// happened to them (`docs/ledger.md`, "Claim before send").
public protocol DispatchLedger: Sendable {
    /// Records outcomes and, in the same transaction (one sync to disk), claims what `request` asks for: what a busy
    /// dispatcher does each time sends finish. Returns the ids of outcomes whose claim was lost (fenced out) and the
    /// new claims, durable before the call returns. A `.deferred` outcome hands its claim back unsent: `planned`
    /// again, or `retry` when earlier attempts exist, with the attempt refunded.
    func settle(_ outcomes: [DeliveryOutcome], claiming request: ClaimRequest?) async throws -> Settlement

    /// Records that part `partsSent` of a multi-part delivery was confirmed, so a crash resumes after it.
    /// Returns false when the claim was lost (fenced out).
    func recordProgress(_ claim: ClaimedDelivery, partsSent: Int, at: Date) async throws -> Bool

    /// Marks, durably, that part `part` of `partsTotal` is about to be sent, and stores `partsTotal` as the
    /// delivery's part count; returns false when the claim was lost. Every request of a multi-part delivery, or of one
    /// whose part count changed since it was planned, is marked: a claim that ends with no part marked is known to
    /// have ended between parts and is resumed, one that ends with a part marked is in doubt.
    func markPartInFlight(_ claim: ClaimedDelivery, part: Int, of partsTotal: Int, at: Date) async throws -> Bool

    /// Extends a claim's lease to `until` (stamped `at`); returns false when the claim was lost (fenced out), in
    /// which case nothing may be sent. An error means the ledger could not be asked: the claim may still be held.
    func renewLease(_ claim: ClaimedDelivery, until: Date, at: Date) async throws -> Bool

    /// Ends claims whose lease expired, or whose owner `isOwnerAlive` says is dead: they become `in_doubt`
    /// (policy `hold`) or `retry` (policy `resend`), or `retry` at the first unsent part when they ended between parts.
    func expireLeases(
        now: Date, policy: InDoubtPolicy, isOwnerAlive: @Sendable (String) -> Bool
    ) async throws -> [ExpiredLease]

    /// What is left to do, for one notice or for all.
    func pending(noticeID: String?, now: Date) async throws -> PendingStatus

    /// Stored notices by id (those that exist).
    func notices(ids: [String]) async throws -> [String: StoredNotice]

    /// Takes the ledger's write lock and lets it go without changing anything: throws when the ledger can't be
    /// written now (locked past the busy timeout, its file deleted or replaced). The daemon's liveness probe.
    func checkWritable() async throws

    /// The hint that work may be due: signalled after each plan, firing or operator retry this store commits and,
    /// for a shared store, the other instances' (a dispatcher waits on it instead of polling fast).
    func wakeups() async -> LedgerWakeups

    /// Reserves a send slot for a message that counts against every bot in `bots`, for every instance sharing this
    /// ledger: the first time all are free, if it is within `horizon` of `now`. Nil when this store leaves pacing
    /// to each process (the embedded store: one machine's processes pace their own bots).
    func reserveSlot(_ bots: [BotSlot], now: Date, horizon: TimeInterval) async throws -> SlotReservation?

    /// Pauses a bot for every instance sharing this ledger until `until` (a "too fast" answer); nothing for a store
    /// that leaves pacing to each process.
    func pauseBot(_ key: String, until: Date) async throws
}

/// One limit a message counts against, as a shared ledger paces it: its key (a digest of it is stored, never the
/// key, which may hold a credential) and the spacing it needs.
public struct BotSlot: Sendable, Equatable {
    /// The limit's key.
    public var key: String
    /// Seconds between two messages under this limit.
    public var spacing: TimeInterval

    /// Creates one.
    public init(key: String, spacing: TimeInterval) {
        self.key = key
        self.spacing = spacing
    }
}

/// What a shared ledger answered to a slot reservation.
public enum SlotReservation: Sendable, Equatable {
    /// Reserved: send at this time.
    case sendAt(Date)
    /// Every bot is not free before this time, beyond the horizon: nothing reserved.
    case busyUntil(Date)
}

extension DispatchLedger {
    /// Claims up to `request.limit` due deliveries (planned, or retry whose time has come) for `request.owner`.
    public func claim(_ request: ClaimRequest) async throws -> [ClaimedDelivery] {
        guard request.limit > 0 else { return [] }
        return try await settle([], claiming: request).claimed
    }

    /// Records outcomes in one transaction; returns the ids whose claim was lost (fenced out).
    public func record(_ outcomes: [DeliveryOutcome]) async throws -> [String] {
        guard !outcomes.isEmpty else { return [] }
        return try await settle(outcomes, claiming: nil).lost
    }

    /// Hands back claims that were never sent: `planned` again, or `retry` when earlier attempts exist, with the
    /// attempt refunded.
    public func release(_ claims: [ClaimedDelivery], at: Date) async throws {
        _ = try await record(
            claims.map {
                DeliveryOutcome(claim: $0, result: .deferred(until: at), partsSent: $0.partsSent, error: nil, at: at)
            })
    }
}
