import Foundation
import GridcastCore
import PostgresNIO

/// Planning: notices, their deliveries and schedule firings coming into the ledger (``PlanningLedger``), as on
/// SQLite. A firing is recorded once across instances by its primary key.
extension PostgresLedgerStore {
    public func plan(_ plan: Plan) async throws -> PlanResult {
        let result = try await write { tx in
            var entry = PlanEvents(kind: .plan, actor: plan.origin, at: plan.now)
            let result = try await Self.insert(plan, into: tx, logging: &entry)
            try await entry.append(tx)
            try await Self.notifyWork(tx)
            return result
        }
        await refreshStatistics(after: result.added)
        await wakeupHub.signal()
        return result
    }

    public func recordFiring(_ firing: Firing, plans: [Plan]) async throws -> [PlanResult]? {
        let results = try await write { tx -> [PlanResult]? in
            let recorded = try await tx.row(
                """
                INSERT INTO schedule_firings (schedule_id, fire_at, outcome, note, notices, recorded_at)
                VALUES (\(firing.scheduleID), \(firing.fireAt.ledgerMillis), \(firing.outcome.rawValue),
                    \(firing.note), \(plans.map(\.notice.id).joined(separator: ",")),
                    \(firing.recordedAt.ledgerMillis))
                ON CONFLICT DO NOTHING
                RETURNING *
                """)
            // Already recorded (a restart, or another instance): the firing happened once already.
            guard let recorded else { return nil }
            var entry = PlanEvents(kind: .firing, actor: "schedule:\(firing.scheduleID)", at: firing.recordedAt)
            entry.images = [try PostgresImageWriter.image(table: "schedule_firings", of: recorded)]
            var results: [PlanResult] = []
            for plan in plans { results.append(try await Self.insert(plan, into: tx, logging: &entry)) }
            try await entry.append(tx)
            try await Self.notifyWork(tx)
            return results
        }
        if let results {
            await refreshStatistics(after: results.reduce(0) { $0 + $1.added })
            await wakeupHub.signal()
        }
        return results
    }

    /// Brings the planner's picture of `deliveries` up to date after a large plan, before the claims start. Without
    /// it the planner reckons the freshly planned rows a handful (the statistics predate them, and autovacuum
    /// catches up only after a tenth of the table changed), reads and sorts all of them for every claim of 64, and
    /// a fan-out's claims cost the square of its size. Best effort: a failure leaves the old statistics.
    private func refreshStatistics(after added: Int) async {
        guard added >= Self.analyzeAfter else { return }
        _ = try? await write { tx in try await tx.rows("ANALYZE deliveries") }
    }

    /// How many deliveries a plan adds before the statistics are refreshed.
    static let analyzeAfter = 1000

    public func retimeHeld(
        now: Date, by actor: String, release: @escaping @Sendable (Date) -> Date
    ) async throws -> Int {
        try await write { tx in
            let held = try await tx.rows(
                """
                SELECT d.id, d.planned_at, d.next_at FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE d.state = 'planned' AND d.attempts = 0 AND n.urgent = 0 AND d.next_at > \(now.ledgerMillis)
                ORDER BY d.pos
                """)
            var images: [RowImage] = []
            for row in held {
                let (id, plannedAt, nextAt) = try row.decode((String, Int64, Int64).self)
                let due = release(max(Date(ledgerMillis: plannedAt), now)).ledgerMillis
                guard due != nextAt else { continue }
                if let updated = try await tx.row(
                    """
                    UPDATE deliveries SET next_at = \(due), updated_at = \(now.ledgerMillis)
                    WHERE id = \(id) AND state = 'planned'
                    RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                    """)
                {
                    images.append(try PostgresImageWriter.image(table: "deliveries", of: updated))
                }
            }
            try await EventLog.append(tx, kind: .retime, actor: actor, at: now, images: images)
            return images.count
        }
    }

    public func lastFiring(scheduleID: String) async throws -> Date? {
        try await read { tx in
            try await tx.value(
                "SELECT max(fire_at) FROM schedule_firings WHERE schedule_id = \(scheduleID)", as: Int64.self
            ).map(Date.init(ledgerMillis:))
        }
    }

    public func firings(scheduleID: String) async throws -> [Firing] {
        try await read { tx in
            try await tx.rows(
                """
                SELECT schedule_id, fire_at, outcome, note, recorded_at FROM schedule_firings
                WHERE schedule_id = \(scheduleID) ORDER BY fire_at
                """
            ).map { row in
                let (schedule, fireAt, outcome, note, recordedAt) = try row.decode(
                    (String, Int64, String, String, Int64).self)
                return Firing(
                    scheduleID: schedule, fireAt: Date(ledgerMillis: fireAt),
                    outcome: Firing.Outcome(rawValue: outcome) ?? .skipped, note: note,
                    recordedAt: Date(ledgerMillis: recordedAt))
            }
        }
    }

    public func noticesHad(groupIDs: [String], among noticeIDs: [String]) async throws -> [String: Set<String>] {
        guard !groupIDs.isEmpty, !noticeIDs.isEmpty else { return [:] }
        let after = Notice.revisionMarker
        let before = String(Notice.revisionMarker.dropLast()) + "."
        return try await read { tx in
            // A notice's revisions sort right after `id.rev-` and before `id.rev.` in byte order (collation "C").
            let rows = try await tx.rows(
                """
                SELECT d.group_id, d.notice_id FROM unnest(\(noticeIDs)::text[]) AS n(id)
                JOIN deliveries d ON d.notice_id = n.id
                    OR (d.notice_id COLLATE "C" > n.id || \(after) AND d.notice_id COLLATE "C" < n.id || \(before))
                WHERE d.group_id = ANY(\(groupIDs))
                """)
            var had: [String: Set<String>] = [:]
            for row in rows {
                let (group, notice) = try row.decode((String, String).self)
                had[group, default: []].insert(notice)
            }
            return had
        }
    }

    /// Records a notice (or finds it with the same content) and its deliveries, inside the caller's transaction.
    /// The rows are logged through `entry`: the notice with the first chunk of deliveries, then one event per chunk.
    static func insert(
        _ plan: Plan, into tx: PostgresTransaction, logging entry: inout PlanEvents
    ) async throws -> PlanResult {
        let now = plan.now.ledgerMillis
        let hash = plan.notice.contentHash
        var created = false
        var createdAt = plan.now
        if let row = try await tx.row("SELECT content_hash, created_at FROM notices WHERE id = \(plan.notice.id)") {
            let (storedHash, storedAt) = try row.decode((String, Int64).self)
            guard storedHash == hash else { throw LedgerError.conflict(noticeID: plan.notice.id) }
            createdAt = Date(ledgerMillis: storedAt)
        } else {
            let notice = plan.notice
            if let poster = notice.poster {
                // Content-addressed: a poster that another notice brought is stored, and logged, once.
                if let stored = try await tx.row(
                    """
                    INSERT INTO posters (sha256, format, size, bytes)
                    VALUES (\(poster.sha256), \(poster.format.rawValue), \(Int64(poster.bytes.count)),
                        \(Data(poster.bytes)))
                    ON CONFLICT DO NOTHING
                    RETURNING sha256, format, size
                    """)
                {
                    entry.images.append(try PostgresImageWriter.image(table: "posters", of: stored))
                }
            }
            let row = try await tx.row(
                """
                INSERT INTO notices (id, title, text, urgent, content_hash, selector, origin, created_at,
                    poster_sha256, image_url, link_url, link_title, link_description, link_picurl)
                VALUES (\(notice.id), \(notice.title), \(notice.text), \(Int64(notice.urgent ? 1 : 0)), \(hash),
                    \(plan.selector), \(plan.origin), \(now), \(notice.poster?.sha256), \(notice.poster?.url),
                    \(notice.link?.url), \(notice.link?.title), \(notice.link?.description),
                    \(notice.link?.pictureURL))
                RETURNING *
                """)
            if let row { entry.images.append(try PostgresImageWriter.image(table: "notices", of: row)) }
            created = true
        }
        // One statement per chunk of 200 (as on SQLite, so a plan logs the same events on either store), its rows
        // bound as arrays. A new notice has no deliveries yet, so
        // every row is inserted (a conflict aborts the plan) and its image is written from the values; when resuming
        // a notice, the rows added are read back.
        var added = 0
        for start in stride(from: plan.targets.startIndex, to: plan.targets.endIndex, by: 200) {
            let rows = plan.targets[start..<min(start + 200, plan.targets.endIndex)].map {
                PlannedRow(plan: plan, target: $0)
            }
            var json = CanonicalJSON(reservingCapacity: rows.count * 480)
            let insert: PostgresQuery = """
                INSERT INTO deliveries
                    (id, notice_id, group_id, group_name, sink, state, next_at, parts_total, planned_at, updated_at,
                    note)
                SELECT id, notice_id, group_id, group_name, sink, 'planned', next_at, parts_total, now, now,
                    CASE WHEN has_note = 1 THEN note END
                FROM unnest(\(rows.map(\.id))::text[], \(rows.map(\.noticeID))::text[], \(rows.map(\.groupID))::text[],
                    \(rows.map(\.groupName))::text[], \(rows.map(\.sink))::text[], \(rows.map(\.nextAt))::bigint[],
                    \(rows.map { Int64($0.parts) })::bigint[], \(rows.map(\.now))::bigint[],
                    \(rows.map { $0.note ?? "" })::text[], \(rows.map { Int64($0.note == nil ? 0 : 1) })::bigint[])
                    WITH ORDINALITY
                    AS v(id, notice_id, group_id, group_name, sink, next_at, parts_total, now, note, has_note, n)
                ORDER BY n
                """
            if created {
                try await tx.rows(insert)
                for row in rows { json.append(PlannedRow.layout, values: row.imageValues) }
                added += rows.count
            } else {
                var images = PostgresImageWriter(table: "deliveries")
                var resumed = insert
                resumed.sql += " ON CONFLICT DO NOTHING RETURNING " + PostgresSchema.imageColumns["deliveries"]!
                for row in try await tx.rows(resumed) {
                    try images.append(row, to: &json)
                    added += 1
                }
            }
            try await entry.append(tx, json: json)
        }
        let total =
            created
            ? added
            : Int(
                try await tx.value(
                    "SELECT count(*) FROM deliveries WHERE notice_id = \(plan.notice.id)", as: Int64.self) ?? 0)
        var result = PlanResult(created: created, added: added, total: total, createdAt: createdAt)
        result.quotaRefused = try await refuseOverQuota(plan, logging: &entry, in: tx)
        return result
    }

    /// Records `quota_refused` every planned delivery of `plan` to a customer group that has had its quota of mass
    /// messages in the current period, counted in the plan's transaction as on SQLite.
    private static func refuseOverQuota(
        _ plan: Plan, logging entry: inout PlanEvents, in tx: PostgresTransaction
    ) async throws -> [String: String] {
        var refused: [String: String] = [:]
        for target in plan.targets {
            guard let allowance = target.allowance else { continue }
            let id = DeliveryID.of(noticeID: plan.notice.id, groupID: target.groupID)
            // Locks the group's customer rows, so two plans can't both take a group's last message.
            let used = Int(
                try await tx.value(
                    """
                    SELECT count(*) FROM (
                        SELECT 1 FROM deliveries
                        WHERE sink = \(Group.customerGroupSink) AND group_id = \(target.groupID) AND id <> \(id)
                            AND ((state = 'sent' AND sent_at >= \(allowance.since.ledgerMillis))
                                OR state IN ('planned', 'retry', 'claimed', 'awaiting_confirmation'))
                        FOR UPDATE) AS used
                    """, as: Int64.self) ?? 0)
            guard used >= allowance.limit else { continue }
            let reason =
                "not sent: the group has had its quota of mass messages (\(used) of \(allowance.limit), quota "
                + "\(allowance.rule))"
            let rows = try await tx.rows(
                """
                UPDATE deliveries SET state = 'quota_refused', last_error = \(reason),
                    updated_at = \(plan.now.ledgerMillis)
                WHERE id = \(id) AND state = 'planned' AND attempts = 0
                RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                """)
            guard !rows.isEmpty else { continue }
            refused[target.groupID] = reason
            entry.images += try rows.map { try PostgresImageWriter.image(table: "deliveries", of: $0) }
        }
        try await entry.append(tx)
        return refused
    }
}
