import Foundation
import GRDB

/// Mass-message tasks (``MassTaskLedger``): batches claimed into tasks, tasks claimed for their next call, and what
/// the platform said, each in one transaction with its event.
extension SQLiteLedgerStore {
    public func claimTaskBatches(_ request: TaskClaimRequest) async throws -> [TaskClaim] {
        try await write { db in
            let now = request.now.ledgerMillis
            let due = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, notice_id, group_id FROM deliveries
                    WHERE (state = 'planned' OR state = 'retry') AND next_at <= ? AND sink = ?
                    ORDER BY next_at, rowid LIMIT 10000
                    """,
                arguments: [now, request.sink])
            var images: [RowImage] = []
            var batches: [(notice: String, key: TaskKey, deliveries: [TaskDelivery])] = []
            var open: [String: Int] = [:]
            for row in due {
                let delivery = TaskDelivery(id: row["id"], groupID: row["group_id"])
                let notice: String = row["notice_id"]
                guard let key = request.key(delivery.groupID) else {
                    images += try Row.fetchAll(
                        db,
                        sql: """
                            UPDATE deliveries SET state = 'dead', last_error = ?, updated_at = ?
                            WHERE id = ? RETURNING *
                            """,
                        arguments: [
                            "group \(delivery.groupID) is no longer in the config: not sent", now, delivery.id,
                        ]
                    ).map { RowImage(table: "deliveries", row: $0) }
                    continue
                }
                let name = "\(notice)\u{1}\(key.app)\u{1}\(key.member)"
                if let index = open[name], batches[index].deliveries.count < request.batchSize {
                    batches[index].deliveries.append(delivery)
                } else {
                    open[name] = batches.count
                    batches.append((notice, key, [delivery]))
                }
            }
            let leaseUntil = now + request.lease.milliseconds
            var claims: [TaskClaim] = []
            for batch in batches.prefix(max(1, request.batches)) {
                let number =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT MAX(batch) + 1 FROM mass_tasks WHERE notice_id = ? AND app = ? AND owner = ?",
                        arguments: [batch.notice, batch.key.app, batch.key.member]) ?? 0
                guard
                    let task = try Row.fetchOne(
                        db,
                        sql: """
                            INSERT INTO mass_tasks (notice_id, app, owner, batch, state, claim_seq, lease_owner,
                                lease_until, created_at, next_at, updated_at)
                            VALUES (?, ?, ?, ?, 'creating', 1, ?, ?, ?, ?, ?)
                            RETURNING *
                            """,
                        arguments: [
                            batch.notice, batch.key.app, batch.key.member, number, request.leaseOwner, leaseUntil, now,
                            leaseUntil, now,
                        ])
                else { continue }
                images.append(RowImage(table: "mass_tasks", row: task))
                let id: Int64 = task["id"]
                let claimed = try db.cachedStatement(
                    sql: """
                        UPDATE deliveries SET state = 'claimed', task_id = ?, claim_seq = claim_seq + 1,
                            attempts = attempts + 1, lease_owner = ?, lease_until = ?,
                            first_attempt_at = COALESCE(first_attempt_at, ?), last_attempt_at = ?, updated_at = ?
                        WHERE id = ? AND (state = 'planned' OR state = 'retry')
                        RETURNING *
                        """)
                for delivery in batch.deliveries {
                    claimed.setUncheckedArguments([id, request.leaseOwner, leaseUntil, now, now, now, delivery.id])
                    images += try Row.fetchAll(claimed).map { RowImage(table: "deliveries", row: $0) }
                }
                claims.append(
                    TaskClaim(
                        handle: TaskHandle(id: id, claimSeq: 1, leaseOwner: request.leaseOwner),
                        noticeID: batch.notice, key: batch.key, createdAt: Date(ledgerMillis: now),
                        deliveries: batch.deliveries))
            }
            try EventLog.append(db, kind: .claim, actor: request.leaseOwner, at: request.now, images: images)
            return claims
        }
    }

    public func claimDueTasks(leaseOwner: String, now: Date, lease: Duration, limit: Int) async throws -> [OpenTask] {
        try await write { db in
            let millis = now.ledgerMillis
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE mass_tasks SET claim_seq = claim_seq + 1, lease_owner = ?, lease_until = ?, updated_at = ?
                    WHERE id IN (
                        SELECT id FROM mass_tasks
                        WHERE (state = 'open' AND next_at <= ? AND (lease_until IS NULL OR lease_until < ?))
                            OR (state = 'creating' AND lease_until < ?)
                        ORDER BY next_at, id LIMIT ?)
                    RETURNING *
                    """,
                arguments: [leaseOwner, millis + lease.milliseconds, millis, millis, millis, millis, limit])
            try EventLog.append(
                db, kind: .task, actor: leaseOwner, at: now, images: rows.map { RowImage(table: "mass_tasks", row: $0) }
            )
            return try rows.map { row in
                let id: Int64 = row["id"]
                let waiting = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, group_id FROM deliveries
                        WHERE task_id = ? AND (state = 'claimed' OR state = 'awaiting_confirmation') ORDER BY rowid
                        """,
                    arguments: [id]
                ).map { TaskDelivery(id: $0["id"], groupID: $0["group_id"]) }
                let siblings = try String.fetchAll(
                    db,
                    sql: """
                        SELECT msgid FROM mass_tasks
                        WHERE notice_id = ? AND app = ? AND owner = ? AND id <> ? AND msgid IS NOT NULL
                        """,
                    arguments: [row["notice_id"] as String, row["app"] as String, row["owner"] as String, id])
                var task = OpenTask(
                    handle: TaskHandle(id: id, claimSeq: row["claim_seq"], leaseOwner: leaseOwner),
                    noticeID: row["notice_id"], key: TaskKey(app: row["app"], member: row["owner"]),
                    state: OpenTask.State(rawValue: row["state"]) ?? .open, msgid: row["msgid"],
                    createdAt: Date(ledgerMillis: row["created_at"]),
                    deadline: (row["deadline_at"] as Int64?).map(Date.init(ledgerMillis:)), reminders: row["reminders"],
                    cancelled: (row["cancelled_at"] as Int64?) != nil, waiting: waiting)
                task.siblingMessageIDs = Set(siblings)
                return task
            }
        }
    }

    public func recordTask(_ task: TaskHandle, _ update: TaskUpdate, at: Date) async throws -> Bool {
        try await write { db in
            let now = at.ledgerMillis
            guard
                let current = try String.fetchOne(
                    db, sql: "SELECT state FROM mass_tasks WHERE id = ? AND claim_seq = ? AND lease_owner = ?",
                    arguments: [task.id, task.claimSeq, task.leaseOwner])
            else { return false }
            var images: [RowImage] = []
            func deliveries(_ sql: String, _ arguments: StatementArguments) throws {
                images += try Row.fetchAll(db, sql: sql + " RETURNING *", arguments: arguments).map {
                    RowImage(table: "deliveries", row: $0)
                }
            }
            let waiting = "task_id = ? AND (state = 'claimed' OR state = 'awaiting_confirmation')"
            if let created = update.created {
                try db.execute(
                    sql: "UPDATE mass_tasks SET msgid = ?, deadline_at = ? WHERE id = ?",
                    arguments: [created.msgid, created.deadline.ledgerMillis, task.id])
                try deliveries(
                    """
                    UPDATE deliveries SET state = 'awaiting_confirmation', lease_owner = NULL, lease_until = NULL,
                        last_error = NULL, updated_at = ?
                    WHERE task_id = ? AND state = 'claimed'
                    """, [now, task.id])
            }
            for (id, result) in update.results.sorted(by: { $0.key < $1.key }) {
                let (assignments, values) = Self.assignments(for: result)
                try deliveries(
                    "UPDATE deliveries SET \(assignments), updated_at = ? WHERE id = ? AND \(waiting)",
                    values + [now, id, task.id])
            }
            if let ended = update.ended {
                let (assignments, values) = Self.assignments(for: ended)
                try deliveries(
                    "UPDATE deliveries SET \(assignments), updated_at = ? WHERE \(waiting)", values + [now, task.id])
            }
            let remaining =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deliveries WHERE \(waiting)", arguments: [task.id])
                ?? 0
            let state = TaskStates.after(update, current: current, remaining: Int(remaining))
            let nextAt = update.nextAt ?? at.addingTimeInterval(300)
            let leaseUntil: Int64? = state == "creating" ? nextAt.ledgerMillis : nil
            images += try Row.fetchAll(
                db,
                sql: """
                    UPDATE mass_tasks SET state = ?, next_at = ?, reminders = reminders + ?,
                        cancelled_at = COALESCE(cancelled_at, ?), last_error = ?, lease_owner = NULL,
                        lease_until = ?, updated_at = ?
                    WHERE id = ?
                    RETURNING *
                    """,
                arguments: [
                    state, nextAt.ledgerMillis, update.reminded ? 1 : 0, update.cancelled ? now : nil, update.error,
                    leaseUntil, now, task.id,
                ]
            ).map { RowImage(table: "mass_tasks", row: $0) }
            try EventLog.append(db, kind: .task, actor: task.leaseOwner, at: at, images: images)
            return true
        }
    }

    /// The columns a task result sets on its delivery, and their values.
    private static func assignments(for result: TaskResult) -> (String, StatementArguments) {
        let settled = "lease_owner = NULL, lease_until = NULL, part_in_flight = NULL"
        switch result {
        case .sent(let at):
            return (
                "state = 'sent', sent_at = ?, parts_sent = parts_total, last_error = NULL, \(settled)",
                [at.ledgerMillis]
            )
        case .notDelivered:
            return (
                "state = 'not_delivered', last_error = ?, \(settled)",
                ["not posted: the group is no longer the member's customer group (left, or not a friend)"]
            )
        case .quotaRefused:
            return (
                "state = 'quota_refused', last_error = ?, \(settled)",
                ["not posted: the group had already had its quota of mass messages"]
            )
        case .expired:
            return (
                "state = 'expired', last_error = ?, \(settled)",
                ["not posted: the member didn't confirm in time, and the task was cancelled"]
            )
        case .dead(let reason):
            return ("state = 'dead', last_error = ?, \(settled)", [reason])
        case .retry(let at, let reason):
            return (
                "state = 'retry', next_at = ?, task_id = NULL, last_error = ?, \(settled)", [at.ledgerMillis, reason]
            )
        case .inDoubt(let reason):
            return ("state = 'in_doubt', last_error = ?, \(settled)", [reason])
        }
    }
}
