import Foundation
import GRDB
import GridcastCore

/// Dispatch: claims, fenced outcomes, part marks, lease renewal and expiry (``DispatchLedger``).
extension SQLiteLedgerStore {
    public func settle(_ outcomes: [DeliveryOutcome], claiming request: ClaimRequest?) async throws -> Settlement {
        guard !outcomes.isEmpty || (request?.limit ?? 0) > 0 else { return Settlement(lost: [], claimed: []) }
        let batch = OutcomeBatch(outcomes)
        return try await write { db in
            let lost = try Self.record(batch, in: db)
            let claimed = try request.map { try Self.claim($0, in: db) } ?? []
            return Settlement(lost: lost, claimed: claimed)
        }
    }

    /// The columns a claim sets, with the key: what its event records of each row.
    static let claimSets = [
        "id", "state", "claim_seq", "attempts", "lease_owner", "lease_until", "first_attempt_at", "last_attempt_at",
        "updated_at",
    ]

    /// The claim statement, with and without the filter on one notice: made once, not on every claim.
    static let claimSQL = (all: makeClaimSQL(forNotice: false), notice: makeClaimSQL(forNotice: true))

    /// Claims the oldest due deliveries, up to `:limit`, of `:notice` when `forNotice`.
    private static func makeClaimSQL(forNotice: Bool) -> String {
        // Oldest due first; customer groups are sent as tasks (``MassTaskLedger``). Each state is read in index order (state, next_at, rowid) and only the two short
        // heads are merged: `state IN (…) ORDER BY next_at` would sort every due row on every claim.
        let noticeFilter = forNotice ? " AND notice_id = :notice" : ""
        func due(_ state: DeliveryState) -> String {
            """
            SELECT next_at, r FROM (
                SELECT next_at, rowid AS r FROM deliveries
                WHERE state = '\(state.rawValue)' AND next_at <= :now\(noticeFilter)
                    AND sink <> '\(Group.customerGroupSink)'
                ORDER BY next_at, rowid LIMIT :limit)
            """
        }
        return """
            UPDATE deliveries SET
                state = 'claimed', claim_seq = claim_seq + 1, attempts = attempts + 1,
                lease_owner = :owner, lease_until = :leaseBase + :timeout * (parts_total - parts_sent),
                first_attempt_at = COALESCE(first_attempt_at, :now), last_attempt_at = :now, updated_at = :now
            WHERE rowid IN (
                SELECT r FROM (\(due(.planned)) UNION ALL \(due(.retry)) ORDER BY next_at, r LIMIT :limit))
            RETURNING \(claimSets.joined(separator: ", ")), notice_id, group_id, parts_total, parts_sent
            """
    }

    /// Claims inside the caller's transaction.
    static func claim(_ request: ClaimRequest, in db: Database) throws -> [ClaimedDelivery] {
        let now = request.now.ledgerMillis
        let sql = request.noticeID == nil ? claimSQL.all : claimSQL.notice
        var arguments: StatementArguments = [
            "owner": request.owner, "leaseBase": now + request.leaseMargin.milliseconds,
            "timeout": request.timeout.milliseconds, "now": now, "limit": request.limit,
        ]
        if let noticeID = request.noticeID { arguments += ["notice": noticeID] }
        let statement = try db.cachedStatement(sql: sql)
        statement.setUncheckedArguments(arguments)
        var images = RowWriter(table: "deliveries", changed: Self.claimSets)
        var json = CanonicalJSON(reservingCapacity: request.limit * 300)
        var claimed: [ClaimedDelivery] = []
        claimed.reserveCapacity(request.limit)
        // Positions, found once: a claim batch reads them from every row.
        let column = { (name: String) in statement.columnNames.firstIndex(of: name)! }
        let (id, notice, group, claimSeq, attempts) = (
            column("id"), column("notice_id"), column("group_id"), column("claim_seq"), column("attempts")
        )
        let (partsTotal, partsSent, leaseUntil) = (column("parts_total"), column("parts_sent"), column("lease_until"))
        let rows = try Row.fetchCursor(statement)
        while let row = try rows.next() {
            images.append(row, to: &json)
            claimed.append(
                ClaimedDelivery(
                    id: row[id], noticeID: row[notice], groupID: row[group], claimSeq: row[claimSeq],
                    attempts: row[attempts], partsTotal: row[partsTotal], partsSent: row[partsSent],
                    owner: request.owner, leaseUntil: Date(ledgerMillis: row[leaseUntil])
                ))
        }
        try EventLog.append(db, kind: .claim, actor: request.owner, at: request.now, json: json)
        return claimed
    }

    public func recordProgress(_ claim: ClaimedDelivery, partsSent: Int, at: Date) async throws -> Bool {
        try await updateClaimed(
            claim, kind: .progress, at: at, set: "parts_sent = ?, part_in_flight = NULL, updated_at = ?",
            [partsSent, at.ledgerMillis]
        )
    }

    public func markPartInFlight(
        _ claim: ClaimedDelivery, part: Int, of partsTotal: Int, at: Date
    ) async throws
        -> Bool
    {
        try await updateClaimed(
            claim, kind: .part, at: at, set: "part_in_flight = ?, parts_total = ?, updated_at = ?",
            [part, partsTotal, at.ledgerMillis]
        )
    }

    public func renewLease(_ claim: ClaimedDelivery, until: Date, at: Date) async throws -> Bool {
        try await updateClaimed(claim, kind: .lease, at: at, set: "lease_until = ?", [until.ledgerMillis])
    }

    /// One fenced change to a claimed delivery, logged as an event; false when the claim was lost.
    private func updateClaimed(
        _ claim: ClaimedDelivery, kind: LedgerEventKind, at: Date, set assignments: String,
        _ values: StatementArguments
    ) async throws -> Bool {
        try await write { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    UPDATE deliveries SET \(assignments)
                    WHERE id = ? AND state = 'claimed' AND claim_seq = ? AND lease_owner = ?
                    RETURNING *
                    """,
                arguments: values + [claim.id, claim.claimSeq, claim.owner]
            )
            guard let row else { return false }
            try EventLog.append(
                db, kind: kind, actor: claim.owner, at: at, images: [RowImage(table: "deliveries", row: row)])
            return true
        }
    }

    /// Records outcomes inside the caller's transaction; returns the ids whose claim was lost.
    ///
    /// Each row is found by its id (the primary key) and fenced on the claim. An outcome sets only values it knows,
    /// so its event is written from them without reading the row back (`RETURNING` costs about as much again as the
    /// update). The fence includes `attempts`, which a claim sets and nothing else changes while it holds.
    static func record(_ batch: OutcomeBatch, in db: Database) throws -> [String] {
        let outcomes = batch.outcomes
        guard !outcomes.isEmpty else { return [] }
        let update = try db.cachedStatement(
            sql: """
                UPDATE deliveries SET
                    state = ?, next_at = COALESCE(?, next_at), attempts = ?, parts_sent = ?,
                    sent_at = COALESCE(?, sent_at), last_error = ?, lease_owner = NULL, lease_until = NULL,
                    part_in_flight = NULL, updated_at = ?
                WHERE id = ? AND state = 'claimed' AND claim_seq = ? AND lease_owner = ? AND attempts = ?
                """
        )
        // A deferral's new state depends on the row's history: it reads back the columns it set.
        let deferral = try db.cachedStatement(
            sql: """
                UPDATE deliveries SET
                    state = CASE WHEN attempts > 1 OR parts_sent > 0 THEN 'retry' ELSE 'planned' END,
                    first_attempt_at = CASE WHEN attempts > 1 OR parts_sent > 0 THEN first_attempt_at END,
                    attempts = attempts - 1, next_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
                WHERE id = ? AND state = 'claimed' AND claim_seq = ? AND lease_owner = ?
                RETURNING \(Self.deferralReturning)
                """
        )
        var lost: [String] = []
        // The outcomes' change images, and those of the deferrals read back.
        var json = CanonicalJSON(reservingCapacity: batch.images.written.count)
        var deferred = RowWriter(table: "deliveries", changed: Self.deferralSets)
        for (outcome, entry) in zip(outcomes, batch.entries) {
            let at = outcome.at.ledgerMillis
            switch entry {
            case .deferral(let until):
                deferral.setUncheckedArguments([
                    until.ledgerMillis, at, outcome.claim.id, outcome.claim.claimSeq, outcome.claim.owner,
                ])
                if let row = try Row.fetchOne(deferral) {
                    deferred.append(row, to: &json)
                } else {
                    lost.append(outcome.claim.id)
                }
            case .change(let change, let image):
                update.setUncheckedArguments([
                    change.state.rawValue, change.nextAt, change.attempts, outcome.partsSent, change.sentAt,
                    change.error, at, outcome.claim.id, outcome.claim.claimSeq, outcome.claim.owner,
                    outcome.claim.attempts,
                ])
                try update.execute()
                if db.changesCount == 0 {
                    lost.append(outcome.claim.id)
                } else {
                    json.append(written: batch.images.written[image])
                }
            }
        }
        try EventLog.append(
            db, kind: .outcome, actor: outcomes[0].claim.owner, at: outcomes.map(\.at).max() ?? Date(), json: json)
        return lost
    }

    /// What a deferral returns: ``deferralSets``, listed once rather than joined on every outcome batch.
    static let deferralReturning = deferralSets.joined(separator: ", ")

    /// The columns a deferral sets, with the key.
    static let deferralSets = [
        "id", "state", "first_attempt_at", "attempts", "next_at", "lease_owner", "lease_until", "updated_at",
    ]

    /// A delivery claimed into a task is not expired here: its task's claim governs it, and a task whose creation
    /// was interrupted is found again before anything else happens (``MassTaskLedger/claimDueTasks``).
    public func expireLeases(
        now: Date,
        policy: InDoubtPolicy,
        isOwnerAlive: @Sendable (String) -> Bool
    ) async throws -> [ExpiredLease] {
        // Liveness checks read /proc: do them outside the write transaction.
        let millis = now.ledgerMillis
        let (owners, overdue) = try await read { db in
            (
                try String.fetchAll(
                    db, sql: "SELECT DISTINCT lease_owner FROM deliveries WHERE state = 'claimed' AND task_id IS NULL"),
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM deliveries WHERE state = 'claimed' AND task_id IS NULL AND lease_until < ?
                        """,
                    arguments: [millis]
                ) ?? 0
            )
        }
        let dead = owners.filter { !isOwnerAlive($0) }
        // The common case, checked without a write transaction (and its fsync): nothing to expire.
        if dead.isEmpty && overdue == 0 { return [] }
        return try await write { db in
            let now = now.ledgerMillis
            var expired: [ExpiredLease] = []
            var images: [RowImage] = []
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, lease_owner, parts_total, parts_sent, part_in_flight FROM deliveries
                    WHERE state = 'claimed' AND task_id IS NULL
                        AND (lease_until < ? OR lease_owner IN (SELECT value FROM json_each(?)))
                    """,
                arguments: [now, String(data: try JSONEncoder().encode(dead), encoding: .utf8)]
            )
            for row in rows {
                let id: String = row["id"]
                let owner: String = row["lease_owner"]
                let partsTotal: Int = row["parts_total"]
                let partsSent: Int = row["parts_sent"]
                let inFlight: Int? = row["part_in_flight"]
                if partsTotal > 1 && inFlight == nil {
                    // Between parts: nothing is on the wire, so resume at the first unsent part. A live owner's next
                    // marker write is fenced out by this change, so it can't send either.
                    images += try Row.fetchAll(
                        db,
                        sql: """
                            UPDATE deliveries SET state = 'retry', next_at = ?, last_error = ?, lease_owner = NULL,
                                lease_until = NULL, updated_at = ?
                            WHERE id = ? AND state = 'claimed'
                            RETURNING *
                            """,
                        arguments: [
                            now, "claim ended between parts (\(partsSent) of \(partsTotal) sent): resuming", now, id,
                        ]
                    ).map { RowImage(table: "deliveries", row: $0) }
                    expired.append(ExpiredLease(deliveryID: id, owner: owner, newState: .retry))
                    continue
                }
                let state: DeliveryState = policy == .resend ? .retry : .inDoubt
                let why =
                    dead.contains(owner)
                    ? "outcome unknown: the process holding the claim died"
                    : "outcome unknown: lease expired"
                images += try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE deliveries SET state = ?, next_at = ?, last_error = ?, lease_owner = NULL,
                            lease_until = NULL, updated_at = ?
                        WHERE id = ? AND state = 'claimed'
                        RETURNING *
                        """,
                    arguments: [
                        state.rawValue, now, policy == .resend ? why + "; resending (dispatch.in_doubt: resend)" : why,
                        now, id,
                    ]
                ).map { RowImage(table: "deliveries", row: $0) }
                expired.append(ExpiredLease(deliveryID: id, owner: owner, newState: state))
            }
            try EventLog.append(db, kind: .expire, actor: "lease expiry", at: Date(ledgerMillis: now), images: images)
            return expired
        }
    }
}
