import Foundation
import GRDB
import GridcastCore

/// Planning: notices, their deliveries and schedule firings coming into the ledger (``PlanningLedger``).
extension SQLiteLedgerStore {
    public func plan(_ plan: Plan) async throws -> PlanResult {
        let result = try await write { db in
            var entry = PlanEvents(kind: .plan, actor: plan.origin, at: plan.now)
            let result = try Self.insert(plan, into: db, logging: &entry)
            try entry.append(db)
            return result
        }
        await wakeupHub.signal()
        return result
    }

    public func recordFiring(_ firing: Firing, plans: [Plan]) async throws -> [PlanResult]? {
        let results = try await write { db -> [PlanResult]? in
            let recorded = try Row.fetchOne(
                db,
                sql: """
                    INSERT OR IGNORE INTO schedule_firings
                        (schedule_id, fire_at, outcome, note, notices, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    RETURNING *
                    """,
                arguments: [
                    firing.scheduleID, firing.fireAt.ledgerMillis, firing.outcome.rawValue, firing.note,
                    plans.map(\.notice.id).joined(separator: ","), firing.recordedAt.ledgerMillis,
                ]
            )
            // Already recorded (a restart, or another daemon on this ledger): the firing happened once already.
            guard let recorded else { return nil }
            var entry = PlanEvents(kind: .firing, actor: "schedule:\(firing.scheduleID)", at: firing.recordedAt)
            entry.images = [RowImage(table: "schedule_firings", row: recorded)]
            let results = try plans.map { try Self.insert($0, into: db, logging: &entry) }
            try entry.append(db)
            return results
        }
        if results != nil { await wakeupHub.signal() }
        return results
    }

    public func retimeHeld(
        now: Date, by actor: String, release: @escaping @Sendable (Date) -> Date
    ) async throws -> Int {
        try await write { db in
            let held = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.planned_at, d.next_at FROM deliveries d JOIN notices n ON n.id = d.notice_id
                    WHERE d.state = 'planned' AND d.attempts = 0 AND n.urgent = 0 AND d.next_at > ?
                    """,
                arguments: [now.ledgerMillis]
            )
            var images: [RowImage] = []
            for row in held {
                let due = release(max(Date(ledgerMillis: row["planned_at"]), now)).ledgerMillis
                guard due != row["next_at"] as Int64 else { continue }
                let updated = try Row.fetchOne(
                    db,
                    sql: """
                        UPDATE deliveries SET next_at = ?, updated_at = ? WHERE id = ? AND state = 'planned'
                        RETURNING *
                        """,
                    arguments: [due, now.ledgerMillis, row["id"] as String]
                )
                if let updated { images.append(RowImage(table: "deliveries", row: updated)) }
            }
            try EventLog.append(db, kind: .retime, actor: actor, at: now, images: images)
            return images.count
        }
    }

    public func lastFiring(scheduleID: String) async throws -> Date? {
        try await read { db in
            try Int64.fetchOne(
                db, sql: "SELECT MAX(fire_at) FROM schedule_firings WHERE schedule_id = ?", arguments: [scheduleID]
            ).map(Date.init(ledgerMillis:))
        }
    }

    public func firings(scheduleID: String) async throws -> [Firing] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM schedule_firings WHERE schedule_id = ? ORDER BY fire_at",
                arguments: [scheduleID]
            ).map { row in
                Firing(
                    scheduleID: row["schedule_id"], fireAt: Date(ledgerMillis: row["fire_at"]),
                    outcome: Firing.Outcome(rawValue: row["outcome"]) ?? .skipped, note: row["note"],
                    recordedAt: Date(ledgerMillis: row["recorded_at"])
                )
            }
        }
    }

    public func noticesHad(groupIDs: [String], among noticeIDs: [String]) async throws -> [String: Set<String>] {
        guard !groupIDs.isEmpty, !noticeIDs.isEmpty else { return [:] }
        return try await read { db in
            // A notice's revisions sort right after `id.rev-` and before `id.rev.`: a range on the unique index.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.group_id, d.notice_id FROM json_each(?) AS n
                    JOIN deliveries AS d
                      ON d.notice_id = n.value
                      OR (d.notice_id > n.value || ? AND d.notice_id < n.value || ?)
                    WHERE d.group_id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [
                    Self.jsonArray(noticeIDs), Notice.revisionMarker, String(Notice.revisionMarker.dropLast()) + ".",
                    Self.jsonArray(groupIDs),
                ]
            )
            var had: [String: Set<String>] = [:]
            for row in rows { had[row["group_id"], default: []].insert(row["notice_id"]) }
            return had
        }
    }

    static func jsonArray(_ values: [String]) -> String {
        String(data: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), encoding: .utf8) ?? "[]"
    }

    /// Records a notice (or finds it with the same content) and its deliveries, inside the caller's transaction;
    /// returns what it did. The rows it makes are logged through `entry`: the notice with the first chunk of
    /// deliveries, then one event per chunk.
    static func insert(_ plan: Plan, into db: Database, logging entry: inout PlanEvents) throws -> PlanResult {
        let now = plan.now.ledgerMillis
        let hash = plan.notice.contentHash
        var created = false
        var createdAt = plan.now
        if let row = try Row.fetchOne(
            db, sql: "SELECT content_hash, created_at FROM notices WHERE id = ?", arguments: [plan.notice.id])
        {
            guard (row["content_hash"] as String) == hash else {
                throw LedgerError.conflict(noticeID: plan.notice.id)
            }
            createdAt = Date(ledgerMillis: row["created_at"])
        } else {
            let notice = plan.notice
            if let poster = notice.poster {
                // Content-addressed: a poster that another notice brought is stored, and logged, once.
                let stored = try Row.fetchOne(
                    db,
                    sql: """
                        INSERT OR IGNORE INTO posters (sha256, format, size, bytes) VALUES (?, ?, ?, ?)
                        RETURNING sha256, format, size
                        """,
                    arguments: [poster.sha256, poster.format.rawValue, poster.bytes.count, Data(poster.bytes)]
                )
                entry.images += stored.map { [RowImage(table: "posters", row: $0)] } ?? []
            }
            let row = try Row.fetchOne(
                db,
                sql: """
                    INSERT INTO notices (id, title, text, urgent, content_hash, selector, origin, created_at,
                        poster_sha256, image_url, link_url, link_title, link_description, link_picurl)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    RETURNING *
                    """,
                arguments: [
                    notice.id, notice.title, notice.text, notice.urgent, hash, plan.selector, plan.origin, now,
                    notice.poster?.sha256, notice.poster?.url, notice.link?.url, notice.link?.title,
                    notice.link?.description, notice.link?.pictureURL,
                ]
            )
            entry.images += row.map { [RowImage(table: "notices", row: $0)] } ?? []
            created = true
        }
        // Many rows per statement: the per-statement work (reset, bind, RETURNING's scratch table) is paid once per
        // chunk instead of once per group. Each chunk is its own event, so a plan of any size never holds more
        // than one chunk's images in memory. A new notice has no deliveries yet, so every row is inserted (a
        // conflict aborts the plan) and its image is written from the values, as long as the table has exactly the
        // columns and defaults `PlannedRow` knows; otherwise, and when resuming a notice, the rows are read back.
        let fresh = try created && PlannedRow.matchesSchema(db)
        // Full chunks share one prepared insert; the last, shorter one gets its own.
        var prepared: (rows: Int, insert: Statement)?
        var added = 0
        for start in stride(from: plan.targets.startIndex, to: plan.targets.endIndex, by: 200) {
            let chunk = plan.targets[start..<min(start + 200, plan.targets.endIndex)]
            let rows = chunk.map { PlannedRow(plan: plan, target: $0) }
            if fresh {
                if chunk.count != prepared?.rows {
                    prepared = (
                        chunk.count, try db.makeStatement(sql: insertDeliveries(count: chunk.count, returning: false))
                    )
                }
                added += try insertNew(rows, with: prepared!.insert, logging: &entry, in: db)
            } else {
                added += try insertReadingBack(rows, logging: &entry, in: db)
            }
        }
        let total =
            created
            ? added
            : try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM deliveries WHERE notice_id = ?", arguments: [plan.notice.id]) ?? 0
        var result = PlanResult(created: created, added: added, total: total, createdAt: createdAt)
        result.quotaRefused = try refuseOverQuota(plan, logging: &entry, in: db)
        return result
    }

    /// Records `quota_refused` every planned delivery of `plan` to a customer group that has had its quota of mass
    /// messages in the current period: those sent in it, and those on their way (planned, claimed, awaiting the
    /// member). Counted in the plan's transaction, so two plans can't both take a group's last message.
    private static func refuseOverQuota(
        _ plan: Plan, logging entry: inout PlanEvents, in db: Database
    ) throws -> [String: String] {
        var refused: [String: String] = [:]
        let customer = "sink = '\(Group.customerGroupSink)'"
        for target in plan.targets {
            guard let allowance = target.allowance else { continue }
            let id = DeliveryID.of(noticeID: plan.notice.id, groupID: target.groupID)
            let used =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM deliveries
                        WHERE \(customer) AND group_id = ? AND id <> ?
                            AND ((state = 'sent' AND sent_at >= ?) OR state = 'planned' OR state = 'retry'
                                OR state = 'claimed' OR state = 'awaiting_confirmation')
                        """,
                    arguments: [target.groupID, id, allowance.since.ledgerMillis]) ?? 0
            guard used >= allowance.limit else { continue }
            let reason =
                "not sent: the group has had its quota of mass messages (\(used) of \(allowance.limit), quota "
                + "\(allowance.rule))"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE deliveries SET state = 'quota_refused', last_error = ?, updated_at = ?
                    WHERE id = ? AND state = 'planned' AND attempts = 0
                    RETURNING *
                    """,
                arguments: [reason, plan.now.ledgerMillis, id])
            guard !rows.isEmpty else { continue }
            refused[target.groupID] = reason
            entry.images += rows.map { RowImage(table: "deliveries", row: $0) }
        }
        try entry.append(db)
        return refused
    }

    /// Inserts a new notice's `rows` with `insert`, each logged from its values; returns how many.
    private static func insertNew(
        _ rows: [PlannedRow], with insert: Statement, logging entry: inout PlanEvents, in db: Database
    ) throws -> Int {
        var json = CanonicalJSON(reservingCapacity: rows.count * 480)
        for row in rows { json.append(PlannedRow.layout, values: row.imageValues) }
        insert.setUncheckedArguments(StatementArguments(rows.flatMap(\.values)))
        try insert.execute()
        let inserted = db.changesCount
        guard inserted == rows.count else {
            throw LedgerError.storage("planned \(inserted) of \(rows.count) deliveries")
        }
        try entry.append(db, json: json)
        return inserted
    }

    /// Inserts the `rows` not there yet and logs them as read back; returns how many were added.
    private static func insertReadingBack(
        _ rows: [PlannedRow], logging entry: inout PlanEvents, in db: Database
    ) throws -> Int {
        let insert = try db.cachedStatement(sql: insertDeliveries(count: rows.count, returning: true))
        insert.setUncheckedArguments(StatementArguments(rows.flatMap(\.values)))
        var images = RowWriter(table: "deliveries")
        var json = CanonicalJSON(reservingCapacity: rows.count * 480)
        var added = 0
        let inserted = try Row.fetchCursor(insert)
        while let row = try inserted.next() {
            images.append(row, to: &json)
            added += 1
        }
        try entry.append(db, json: json)
        return added
    }

    /// An insert of `count` planned deliveries (ten arguments each, as ``PlannedRow/values``): with `returning`,
    /// `INSERT OR IGNORE` returning the rows it added; without, a plain `INSERT` that fails on any conflict.
    static func insertDeliveries(count: Int, returning: Bool) -> String {
        let row = "(?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?, ?)"
        return """
            INSERT \(returning ? "OR IGNORE " : "")INTO deliveries
                (id, notice_id, group_id, group_name, sink, state, next_at, parts_total, planned_at, updated_at, note)
            VALUES \(Array(repeating: row, count: count).joined(separator: ", "))\(returning ? " RETURNING *" : "")
            """
    }
}
