import Foundation
import GridcastCore
import PostgresNIO

/// Mass-message tasks (``MassTaskLedger``), as on SQLite: batches claimed into tasks (rows another instance is
/// batching are skipped), tasks claimed for their next call, and what the platform said, each in one transaction
/// with its event. Task leases are on the database's clock (``PostgresClock``).
extension PostgresLedgerStore {
    public func claimTaskBatches(_ request: TaskClaimRequest) async throws -> [TaskClaim] {
        try await write { tx in
            let clock = try await PostgresClock.read(tx)
            let now = request.now.ledgerMillis
            let due = try await tx.rows(
                """
                SELECT id, notice_id, group_id FROM deliveries
                WHERE state IN ('planned', 'retry') AND next_at <= \(clock.database(request.now))
                    AND sink = \(request.sink)
                ORDER BY next_at, pos LIMIT 10000
                FOR UPDATE SKIP LOCKED
                """)
            var images: [RowImage] = []
            var batches: [(notice: String, key: TaskKey, deliveries: [TaskDelivery])] = []
            var open: [String: Int] = [:]
            for row in due {
                let (id, notice, group) = try row.decode((String, String, String).self)
                let delivery = TaskDelivery(id: id, groupID: group)
                guard let key = request.key(group) else {
                    if let dead = try await tx.row(
                        """
                        UPDATE deliveries SET state = 'dead',
                            last_error = \("group \(group) is no longer in the config: not sent"), updated_at = \(now)
                        WHERE id = \(id)
                        RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                        """)
                    {
                        images.append(try PostgresImageWriter.image(table: "deliveries", of: dead))
                    }
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
            let leaseUntil = clock.database(request.now) + request.lease.milliseconds
            let nextAt = now + request.lease.milliseconds
            var claims: [TaskClaim] = []
            for batch in batches.prefix(max(1, request.batches)) {
                let number =
                    try await tx.value(
                        """
                        SELECT max(batch) + 1 FROM mass_tasks
                        WHERE notice_id = \(batch.notice) AND app = \(batch.key.app) AND owner = \(batch.key.member)
                        """, as: Int64.self) ?? 0
                guard
                    let task = try await tx.row(
                        """
                        INSERT INTO mass_tasks (notice_id, app, owner, batch, state, claim_seq, lease_owner,
                            lease_until, created_at, next_at, updated_at)
                        VALUES (\(batch.notice), \(batch.key.app), \(batch.key.member), \(number), 'creating', 1,
                            \(request.leaseOwner), \(leaseUntil), \(now), \(nextAt), \(now))
                        RETURNING *
                        """)
                else { continue }
                images.append(try PostgresImageWriter.image(table: "mass_tasks", of: task))
                let id = try task.makeRandomAccess()["id"].decode(Int64.self)
                let claimed = try await tx.rows(
                    """
                    UPDATE deliveries SET state = 'claimed', task_id = \(id), claim_seq = claim_seq + 1,
                        attempts = attempts + 1, lease_owner = \(request.leaseOwner), lease_until = \(leaseUntil),
                        first_attempt_at = COALESCE(first_attempt_at, \(now)), last_attempt_at = \(now),
                        updated_at = \(now)
                    WHERE id = ANY(\(batch.deliveries.map(\.id))) AND state IN ('planned', 'retry')
                    RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!), pos
                    """)
                var ordered = try claimed.map { (try $0.makeRandomAccess()["pos"].decode(Int64.self), $0) }
                ordered.sort { $0.0 < $1.0 }
                images += try ordered.map { try PostgresImageWriter.image(table: "deliveries", of: $0.1) }
                claims.append(
                    TaskClaim(
                        handle: TaskHandle(id: id, claimSeq: 1, leaseOwner: request.leaseOwner),
                        noticeID: batch.notice, key: batch.key, createdAt: Date(ledgerMillis: now),
                        deliveries: batch.deliveries))
            }
            try await EventLog.append(tx, kind: .claim, actor: request.leaseOwner, at: request.now, images: images)
            return claims
        }
    }

    public func claimDueTasks(leaseOwner: String, now: Date, lease: Duration, limit: Int) async throws -> [OpenTask] {
        try await write { tx in
            let clock = try await PostgresClock.read(tx)
            let millis = now.ledgerMillis
            let current = clock.database(now)
            let rows = try await tx.rows(
                """
                WITH due AS (
                    SELECT id FROM mass_tasks
                    WHERE (state = 'open' AND next_at <= \(current) AND (lease_until IS NULL OR lease_until < \(current)))
                        OR (state = 'creating' AND lease_until < \(current))
                    ORDER BY next_at, id LIMIT \(Int64(limit))
                    FOR UPDATE SKIP LOCKED)
                UPDATE mass_tasks t SET claim_seq = t.claim_seq + 1, lease_owner = \(leaseOwner),
                    lease_until = \(current + lease.milliseconds), updated_at = \(millis)
                FROM due WHERE t.id = due.id
                RETURNING t.*
                """)
            var images: [RowImage] = []
            var tasks: [OpenTask] = []
            var ordered = try rows.map { (try $0.makeRandomAccess()["id"].decode(Int64.self), $0) }
            ordered.sort { $0.0 < $1.0 }
            for (_, row) in ordered {
                images.append(try PostgresImageWriter.image(table: "mass_tasks", of: row))
                let cells = row.makeRandomAccess()
                let id = try cells["id"].decode(Int64.self)
                let notice = try cells["notice_id"].decode(String.self)
                let app = try cells["app"].decode(String.self)
                let owner = try cells["owner"].decode(String.self)
                let waiting = try await tx.rows(
                    """
                    SELECT id, group_id FROM deliveries
                    WHERE task_id = \(id) AND state IN ('claimed', 'awaiting_confirmation') ORDER BY pos
                    """
                ).map { row in
                    let (delivery, group) = try row.decode((String, String).self)
                    return TaskDelivery(id: delivery, groupID: group)
                }
                let siblings = try await tx.values(
                    """
                    SELECT msgid FROM mass_tasks
                    WHERE notice_id = \(notice) AND app = \(app) AND owner = \(owner) AND id <> \(id)
                        AND msgid IS NOT NULL
                    """, as: String.self)
                var task = OpenTask(
                    handle: TaskHandle(
                        id: id, claimSeq: Int(try cells["claim_seq"].decode(Int64.self)), leaseOwner: leaseOwner),
                    noticeID: notice, key: TaskKey(app: app, member: owner),
                    state: OpenTask.State(rawValue: try cells["state"].decode(String.self)) ?? .open,
                    msgid: try cells["msgid"].decode(String?.self),
                    createdAt: Date(ledgerMillis: try cells["created_at"].decode(Int64.self)),
                    deadline: try cells["deadline_at"].decode(Int64?.self).map(Date.init(ledgerMillis:)),
                    reminders: Int(try cells["reminders"].decode(Int64.self)),
                    cancelled: try cells["cancelled_at"].decode(Int64?.self) != nil, waiting: waiting)
                task.siblingMessageIDs = Set(siblings)
                tasks.append(task)
            }
            try await EventLog.append(tx, kind: .task, actor: leaseOwner, at: now, images: images)
            return tasks
        }
    }

    public func recordTask(_ task: TaskHandle, _ update: TaskUpdate, at: Date) async throws -> Bool {
        try await write { tx in
            let clock = try await PostgresClock.read(tx)
            let now = at.ledgerMillis
            guard
                let current = try await tx.value(
                    """
                    SELECT state FROM mass_tasks
                    WHERE id = \(task.id) AND claim_seq = \(Int64(task.claimSeq)) AND lease_owner = \(task.leaseOwner)
                    FOR UPDATE
                    """, as: String.self)
            else { return false }
            var images: [RowImage] = []
            let columns = PostgresSchema.imageColumns["deliveries"]!
            func deliveries(_ query: PostgresQuery) async throws {
                var returning = query
                returning.sql += " RETURNING " + columns
                images += try await tx.rows(returning).map {
                    try PostgresImageWriter.image(table: "deliveries", of: $0)
                }
            }
            if let created = update.created {
                try await tx.rows(
                    """
                    UPDATE mass_tasks SET msgid = \(created.msgid), deadline_at = \(created.deadline.ledgerMillis)
                    WHERE id = \(task.id)
                    """)
                try await deliveries(
                    """
                    UPDATE deliveries SET state = 'awaiting_confirmation', lease_owner = NULL, lease_until = NULL,
                        last_error = NULL, updated_at = \(now)
                    WHERE task_id = \(task.id) AND state = 'claimed'
                    """)
            }
            for (id, result) in update.results.sorted(by: { $0.key < $1.key }) {
                try await deliveries(try Self.settling(result, now: now, taskID: task.id, deliveryID: id))
            }
            if let ended = update.ended {
                try await deliveries(try Self.settling(ended, now: now, taskID: task.id))
            }
            let remaining =
                try await tx.value(
                    """
                    SELECT count(*) FROM deliveries
                    WHERE task_id = \(task.id) AND state IN ('claimed', 'awaiting_confirmation')
                    """, as: Int64.self) ?? 0
            let state = TaskStates.after(update, current: current, remaining: Int(remaining))
            let nextAt = update.nextAt ?? at.addingTimeInterval(300)
            let leaseUntil: Int64? = state == "creating" ? clock.database(nextAt) : nil
            let cancelledAt: Int64? = update.cancelled ? now : nil
            if let row = try await tx.row(
                """
                UPDATE mass_tasks SET state = \(state), next_at = \(nextAt.ledgerMillis),
                    reminders = reminders + \(Int64(update.reminded ? 1 : 0)),
                    cancelled_at = COALESCE(cancelled_at, \(cancelledAt)), last_error = \(update.error),
                    lease_owner = NULL, lease_until = \(leaseUntil), updated_at = \(now)
                WHERE id = \(task.id)
                RETURNING *
                """)
            {
                images.append(try PostgresImageWriter.image(table: "mass_tasks", of: row))
            }
            try await EventLog.append(tx, kind: .task, actor: task.leaseOwner, at: at, images: images)
            return true
        }
    }

    /// The update a task result makes to the task's waiting deliveries (one of them, with `deliveryID`): the same
    /// columns as on SQLite.
    private static func settling(
        _ result: TaskResult, now: Int64, taskID: Int64, deliveryID: String? = nil
    ) throws -> PostgresQuery {
        var binds = PostgresBindings()
        func bind(_ value: some PostgresEncodable & Sendable) throws -> String {
            try binds.append(value)
            return "$\(binds.count)"
        }
        var set: String
        switch result {
        case .sent(let at):
            set = "state = 'sent', sent_at = \(try bind(at.ledgerMillis)), parts_sent = parts_total, last_error = NULL"
        case .notDelivered:
            set =
                "state = 'not_delivered', last_error = "
                + (try bind("not posted: the group is no longer the member's customer group (left, or not a friend)"))
        case .quotaRefused:
            set =
                "state = 'quota_refused', last_error = "
                + (try bind("not posted: the group had already had its quota of mass messages"))
        case .expired:
            set =
                "state = 'expired', last_error = "
                + (try bind("not posted: the member didn't confirm in time, and the task was cancelled"))
        case .dead(let reason):
            set = "state = 'dead', last_error = \(try bind(reason))"
        case .retry(let at, let reason):
            set =
                "state = 'retry', next_at = \(try bind(at.ledgerMillis)), task_id = NULL, last_error = \(try bind(reason))"
        case .inDoubt(let reason):
            set = "state = 'in_doubt', last_error = \(try bind(reason))"
        }
        set += ", lease_owner = NULL, lease_until = NULL, part_in_flight = NULL, updated_at = \(try bind(now))"
        var condition = "task_id = \(try bind(taskID)) AND state IN ('claimed', 'awaiting_confirmation')"
        if let deliveryID { condition += " AND id = \(try bind(deliveryID))" }
        return PostgresQuery(unsafeSQL: "UPDATE deliveries SET \(set) WHERE \(condition)", binds: binds)
    }
}
