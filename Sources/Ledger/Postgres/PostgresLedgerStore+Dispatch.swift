import Foundation
import GridcastCore
import PostgresNIO

/// Dispatch: claims, fenced outcomes, part marks, lease renewal and expiry (``DispatchLedger``), as on SQLite, with
/// claims that skip rows another instance holds and lease times on the database's clock (``PostgresClock``).
extension PostgresLedgerStore {
    public func settle(_ outcomes: [DeliveryOutcome], claiming request: ClaimRequest?) async throws -> Settlement {
        guard !outcomes.isEmpty || (request?.limit ?? 0) > 0 else { return Settlement(lost: [], claimed: []) }
        let batch = OutcomeBatch(outcomes)
        // A claim is confirmed before a request leaves on it once half the instance timeout has passed: by then
        // another instance may be about to end it (``InstanceLedger``).
        let confirmEvery = instanceTimeout / 2
        return try await write(within: Self.dispatchDeadline) { tx in
            // Both steps' events are appended together at the end: one head lock and one insert for the call.
            let (lost, recorded) = try await Self.record(batch, in: tx)
            var claimed: [ClaimedDelivery] = []
            var events = [recorded].compactMap { $0 }
            if let request, request.limit > 0 {
                let (rows, event) = try await Self.claim(request, confirmEvery: confirmEvery, in: tx)
                claimed = rows
                events += [event].compactMap { $0 }
            }
            try await EventLog.append(tx, events)
            return Settlement(lost: lost, claimed: claimed)
        }
    }

    /// Claims inside the caller's transaction: the oldest due webhook deliveries no other transaction holds. Returns
    /// them with the event that logs the claim, for the caller to append.
    ///
    /// One statement reads the database's clock (as ``PostgresClock`` does), moves the claimer's beat and claims: a
    /// claim is a sign of life, so another instance's expiry that runs after this commit never takes it for silent.
    static func claim(
        _ request: ClaimRequest, confirmEvery: Duration, in tx: PostgresTransaction
    ) async throws -> ([ClaimedDelivery], EventLog.Pending?) {
        let now = request.now.ledgerMillis
        let notice = request.noticeID.map { _ in "AND notice_id = $7" } ?? "AND $7::text IS NULL"
        var binds = PostgresBindings()
        binds.append(now)
        binds.append(Int64(request.limit))
        binds.append(request.owner)
        binds.append(request.leaseMargin.milliseconds)
        binds.append(request.timeout.milliseconds)
        binds.append(Date().ledgerMillis)
        binds.append(request.noticeID)
        let rows = try await tx.rows(
            PostgresQuery(
                unsafeSQL: """
                    WITH clock AS (
                        SELECT CASE WHEN abs(db - $6) < \(PostgresClock.tolerance) THEN 0 ELSE db - $6 END AS skew
                        FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS db) AS read),
                    beat AS (
                        UPDATE instances SET heartbeat_at = greatest(heartbeat_at, $6 + (SELECT skew FROM clock))
                        WHERE owner = $3 AND stopped_at IS NULL),
                    due AS (
                        SELECT id FROM deliveries
                        WHERE state IN ('planned', 'retry') AND sink <> '\(Group.customerGroupSink)'
                            AND next_at <= $1 + (SELECT skew FROM clock) \(notice)
                        ORDER BY next_at, pos LIMIT $2
                        FOR UPDATE SKIP LOCKED)
                    UPDATE deliveries d SET
                        state = 'claimed', claim_seq = d.claim_seq + 1, attempts = d.attempts + 1, lease_owner = $3,
                        lease_until = $1 + clock.skew + $4 + $5 * (d.parts_total - d.parts_sent),
                        first_attempt_at = COALESCE(d.first_attempt_at, $1), last_attempt_at = $1, updated_at = $1
                    FROM due, clock WHERE d.id = due.id
                    RETURNING \(claimSets.map { "d.\($0)" }.joined(separator: ", ")), d.notice_id, d.group_id,
                        d.parts_total, d.parts_sent, d.pos, clock.skew
                    """, binds: binds))
        guard let first = rows.first else { return ([], nil) }
        let clock = PostgresClock(skew: try first.makeRandomAccess()["skew"].decode(Int64.self))
        var ordered: [(pos: Int64, row: PostgresRow)] = try rows.map {
            (try $0.makeRandomAccess()["pos"].decode(Int64.self), $0)
        }
        ordered.sort { $0.pos < $1.pos }
        var images = PostgresImageWriter(table: "deliveries", changed: claimSets)
        var json = CanonicalJSON(reservingCapacity: rows.count * 300)
        var claimed: [ClaimedDelivery] = []
        for (_, row) in ordered {
            try images.append(row, to: &json)
            let cells = row.makeRandomAccess()
            claimed.append(
                ClaimedDelivery(
                    id: try cells["id"].decode(String.self), noticeID: try cells["notice_id"].decode(String.self),
                    groupID: try cells["group_id"].decode(String.self),
                    claimSeq: Int(try cells["claim_seq"].decode(Int64.self)),
                    attempts: Int(try cells["attempts"].decode(Int64.self)),
                    partsTotal: Int(try cells["parts_total"].decode(Int64.self)),
                    partsSent: Int(try cells["parts_sent"].decode(Int64.self)), owner: request.owner,
                    leaseUntil: clock.local(try cells["lease_until"].decode(Int64.self)), confirmedAt: request.now,
                    confirmEvery: confirmEvery))
        }
        return (claimed, EventLog.pending(kind: .claim, actor: request.owner, at: request.now, json: json))
    }

    /// How long a dispatcher's call may take: its transactions are short, and a call stuck on a connection the
    /// server dropped (postgres-nio can leave it unanswered) is abandoned soon, its outcomes kept and tried again.
    static let dispatchDeadline = Duration.seconds(10)

    /// The columns a claim sets, with the key: what its event records of each row (as on SQLite).
    static let claimSets = [
        "id", "state", "claim_seq", "attempts", "lease_owner", "lease_until", "first_attempt_at", "last_attempt_at",
        "updated_at",
    ]

    /// The columns a deferral sets, with the key.
    static let deferralSets = [
        "id", "state", "first_attempt_at", "attempts", "next_at", "lease_owner", "lease_until", "updated_at",
    ]

    /// Records outcomes inside the caller's transaction, all changes in one fenced statement; returns the ids whose
    /// claim was lost, and the event for the caller to append. The images were made beforehand (``OutcomeBatch``);
    /// each one whose row held its fence is logged, in the outcomes' order.
    static func record(_ batch: OutcomeBatch, in tx: PostgresTransaction) async throws -> ([String], EventLog.Pending?)
    {
        let outcomes = batch.outcomes
        guard !outcomes.isEmpty else { return ([], nil) }
        var ids: [String] = []
        var states: [String] = []
        var nextAts: [Int64] = []
        var attempts: [Int64] = []
        var partsSent: [Int64] = []
        var sentAts: [Int64] = []
        var errors: [String] = []
        var hasError: [Int64] = []
        var ats: [Int64] = []
        var claimSeqs: [Int64] = []
        var owners: [String] = []
        var fences: [Int64] = []
        for (outcome, entry) in zip(outcomes, batch.entries) {
            guard case .change(let change, _) = entry else { continue }
            ids.append(outcome.claim.id)
            states.append(change.state.rawValue)
            nextAts.append(change.nextAt ?? -1)
            attempts.append(Int64(change.attempts))
            partsSent.append(Int64(outcome.partsSent))
            sentAts.append(change.sentAt ?? -1)
            errors.append(change.error ?? "")
            hasError.append(change.error == nil ? 0 : 1)
            ats.append(outcome.at.ledgerMillis)
            claimSeqs.append(Int64(outcome.claim.claimSeq))
            owners.append(outcome.claim.owner)
            fences.append(Int64(outcome.claim.attempts))
        }
        var recorded = Set<String>()
        if !ids.isEmpty {
            recorded = Set(
                try await tx.values(
                    """
                    UPDATE deliveries d SET
                        state = v.state, next_at = CASE WHEN v.next_at < 0 THEN d.next_at ELSE v.next_at END,
                        attempts = v.attempts, parts_sent = v.parts_sent,
                        sent_at = CASE WHEN v.sent_at < 0 THEN d.sent_at ELSE v.sent_at END,
                        last_error = CASE WHEN v.has_error = 1 THEN v.error END, lease_owner = NULL,
                        lease_until = NULL, part_in_flight = NULL, updated_at = v.at
                    FROM unnest(\(ids)::text[], \(states)::text[], \(nextAts)::bigint[], \(attempts)::bigint[],
                        \(partsSent)::bigint[], \(sentAts)::bigint[], \(errors)::text[], \(hasError)::bigint[],
                        \(ats)::bigint[], \(claimSeqs)::bigint[], \(owners)::text[], \(fences)::bigint[])
                        AS v(id, state, next_at, attempts, parts_sent, sent_at, error, has_error, at, claim_seq,
                            owner, fence)
                    WHERE d.id = v.id AND d.state = 'claimed' AND d.claim_seq = v.claim_seq
                        AND d.lease_owner = v.owner AND d.attempts = v.fence
                    RETURNING d.id
                    """, as: String.self))
        }
        var lost: [String] = []
        var json = CanonicalJSON(reservingCapacity: batch.images.written.count)
        var deferred = PostgresImageWriter(table: "deliveries", changed: deferralSets)
        for (outcome, entry) in zip(outcomes, batch.entries) {
            switch entry {
            case .change(_, let image):
                if recorded.contains(outcome.claim.id) {
                    json.append(written: batch.images.written[image])
                } else {
                    lost.append(outcome.claim.id)
                }
            case .deferral(let until):
                let at = outcome.at.ledgerMillis
                // A deferral's new state depends on the row's history: it reads back the columns it set.
                let row = try await tx.row(
                    """
                    UPDATE deliveries SET
                        state = CASE WHEN attempts > 1 OR parts_sent > 0 THEN 'retry' ELSE 'planned' END,
                        first_attempt_at = CASE WHEN attempts > 1 OR parts_sent > 0 THEN first_attempt_at END,
                        attempts = attempts - 1, next_at = \(until.ledgerMillis), lease_owner = NULL,
                        lease_until = NULL, updated_at = \(at)
                    WHERE id = \(outcome.claim.id) AND state = 'claimed' AND claim_seq = \(Int64(outcome.claim.claimSeq))
                        AND lease_owner = \(outcome.claim.owner)
                    RETURNING \(unescaped: deferralSets.joined(separator: ", "))
                    """)
                if let row {
                    try deferred.append(row, to: &json)
                } else {
                    lost.append(outcome.claim.id)
                }
            }
        }
        let event = EventLog.pending(
            kind: .outcome, actor: outcomes[0].claim.owner, at: outcomes.map(\.at).max() ?? Date(), json: json)
        return (lost, event)
    }

    public func recordProgress(_ claim: ClaimedDelivery, partsSent: Int, at: Date) async throws -> Bool {
        try await updateClaimed(claim, kind: .progress, at: at) { tx in
            try await tx.row(
                """
                UPDATE deliveries SET parts_sent = \(Int64(partsSent)), part_in_flight = NULL,
                    updated_at = \(at.ledgerMillis)
                WHERE id = \(claim.id) AND state = 'claimed' AND claim_seq = \(Int64(claim.claimSeq))
                    AND lease_owner = \(claim.owner)
                RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                """)
        }
    }

    public func markPartInFlight(
        _ claim: ClaimedDelivery, part: Int, of partsTotal: Int, at: Date
    ) async throws -> Bool {
        try await updateClaimed(claim, kind: .part, at: at) { tx in
            try await tx.row(
                """
                UPDATE deliveries SET part_in_flight = \(Int64(part)), parts_total = \(Int64(partsTotal)),
                    updated_at = \(at.ledgerMillis)
                WHERE id = \(claim.id) AND state = 'claimed' AND claim_seq = \(Int64(claim.claimSeq))
                    AND lease_owner = \(claim.owner)
                RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                """)
        }
    }

    public func renewLease(_ claim: ClaimedDelivery, until: Date, at: Date) async throws -> Bool {
        try await updateClaimed(claim, kind: .lease, at: at) { tx in
            let clock = try await PostgresClock.read(tx)
            return try await tx.row(
                """
                UPDATE deliveries SET lease_until = \(clock.database(until))
                WHERE id = \(claim.id) AND state = 'claimed' AND claim_seq = \(Int64(claim.claimSeq))
                    AND lease_owner = \(claim.owner)
                RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                """)
        }
    }

    /// One fenced change to a claimed delivery, logged as an event; false when the claim was lost.
    private func updateClaimed(
        _ claim: ClaimedDelivery, kind: LedgerEventKind, at: Date,
        _ update: @escaping @Sendable (PostgresTransaction) async throws -> PostgresRow?
    ) async throws -> Bool {
        try await write(within: Self.dispatchDeadline) { tx in
            guard let row = try await update(tx) else { return false }
            try await EventLog.append(
                tx, kind: kind, actor: claim.owner, at: at,
                images: [try PostgresImageWriter.image(table: "deliveries", of: row)])
            return true
        }
    }

    /// A delivery claimed into a task is not expired here: its task's claim governs it (``MassTaskLedger``).
    public func expireLeases(
        now: Date, policy: InDoubtPolicy, isOwnerAlive: @Sendable (String) -> Bool
    ) async throws -> [ExpiredLease] {
        let timeout = instanceTimeout
        let (owners, overdue, silent) = try await read { tx in
            let clock = try await PostgresClock.read(tx)
            let owners = try await tx.values(
                "SELECT DISTINCT lease_owner FROM deliveries WHERE state = 'claimed' AND task_id IS NULL",
                as: String.self)
            let overdue =
                try await tx.value(
                    """
                    SELECT count(*) FROM deliveries
                    WHERE state = 'claimed' AND task_id IS NULL AND lease_until < \(clock.database(now))
                    """, as: Int64.self) ?? 0
            return (owners, overdue, Set(try await Self.silentOwners(tx, timeout: timeout)))
        }
        // Dead on this machine (its process is gone), or an instance anywhere that stopped beating.
        let gone = owners.filter { !isOwnerAlive($0) }
        if gone.isEmpty && overdue == 0 && !owners.contains(where: silent.contains) { return [] }
        return try await write(within: Self.dispatchDeadline) { tx in
            let clock = try await PostgresClock.read(tx)
            let millis = now.ledgerMillis
            // Who is silent is asked again here: an instance that resumed since the look above has claimed (which
            // beats: ``claim(_:confirmEvery:in:)``) or beaten, and its claims are its own again.
            let silent = Set(try await Self.silentOwners(tx, timeout: timeout))
            let dead = gone + owners.filter { silent.contains($0) && !gone.contains($0) }
            let rows = try await tx.rows(
                """
                SELECT id, lease_owner, parts_total, parts_sent, part_in_flight FROM deliveries
                WHERE state = 'claimed' AND task_id IS NULL
                    AND (lease_until < \(clock.database(now)) OR lease_owner = ANY(\(dead)))
                ORDER BY pos
                FOR UPDATE
                """)
            var expired: [ExpiredLease] = []
            var images: [RowImage] = []
            for row in rows {
                let (id, owner, partsTotal, partsSent, inFlight) = try row.decode(
                    (String, String, Int64, Int64, Int64?).self)
                let state: DeliveryState
                let why: String
                if partsTotal > 1 && inFlight == nil {
                    // Between parts: nothing is on the wire, so resume at the first unsent part.
                    state = .retry
                    why = "claim ended between parts (\(partsSent) of \(partsTotal) sent): resuming"
                } else {
                    state = policy == .resend ? .retry : .inDoubt
                    let cause =
                        silent.contains(owner)
                        ? "outcome unknown: the instance holding the claim stopped beating"
                        : dead.contains(owner)
                            ? "outcome unknown: the process holding the claim died" : "outcome unknown: lease expired"
                    why = policy == .resend ? cause + "; resending (dispatch.in_doubt: resend)" : cause
                }
                if let updated = try await tx.row(
                    """
                    UPDATE deliveries SET state = \(state.rawValue), next_at = \(millis), last_error = \(why),
                        lease_owner = NULL, lease_until = NULL, updated_at = \(millis)
                    WHERE id = \(id) AND state = 'claimed'
                    RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                    """)
                {
                    images.append(try PostgresImageWriter.image(table: "deliveries", of: updated))
                    expired.append(ExpiredLease(deliveryID: id, owner: owner, newState: state))
                }
            }
            try await EventLog.append(tx, kind: .expire, actor: "lease expiry", at: now, images: images)
            return expired
        }
    }
}
