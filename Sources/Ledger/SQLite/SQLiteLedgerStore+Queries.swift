import Foundation
import GRDB
import GridcastCore

/// What is due, listings, counts and the operator's settling (``LedgerQueries``, and the reads of dispatch).
extension SQLiteLedgerStore {
    public func pending(noticeID: String?, now: Date) async throws -> PendingStatus {
        try await read { db in
            var sql = """
                SELECT
                    SUM(state IN ('planned','retry') AND next_at <= ?) AS due,
                    SUM(state IN ('planned','retry') AND next_at > ?) AS later,
                    MIN(CASE WHEN state IN ('planned','retry') AND next_at > ? THEN next_at END) AS next_due,
                    SUM(state = 'claimed') AS claimed,
                    MIN(CASE WHEN state = 'claimed' THEN lease_until END) AS lease_expiry
                FROM deliveries WHERE \(StateCondition.any(of: [.planned, .retry, .claimed]))
                    AND sink <> '\(Group.customerGroupSink)'
                """
            let millis = now.ledgerMillis
            var arguments: StatementArguments = [millis, millis, millis]
            if let noticeID {
                sql += " AND notice_id = ?"
                arguments += [noticeID]
            }
            guard let row = try Row.fetchOne(db, sql: sql, arguments: arguments) else { return PendingStatus() }
            return PendingStatus(
                dueNow: row["due"] ?? 0,
                later: row["later"] ?? 0,
                nextDueAt: (row["next_due"] as Int64?).map(Date.init(ledgerMillis:)),
                claimed: row["claimed"] ?? 0,
                nextLeaseExpiry: (row["lease_expiry"] as Int64?).map(Date.init(ledgerMillis:))
            )
        }
    }

    public func notices(ids: [String]) async throws -> [String: StoredNotice] {
        guard !ids.isEmpty else { return [:] }
        return try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT n.*, p.bytes AS poster_bytes FROM notices n LEFT JOIN posters p ON p.sha256 = n.poster_sha256
                    WHERE n.id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [String(data: try JSONEncoder().encode(ids), encoding: .utf8)]
            )
            var result: [String: StoredNotice] = [:]
            for row in rows {
                let notice = try Self.notice(from: row)
                result[notice.id] = StoredNotice(
                    notice: notice, contentHash: row["content_hash"], selector: row["selector"],
                    origin: row["origin"], createdAt: Date(ledgerMillis: row["created_at"])
                )
            }
            return result
        }
    }

    /// The notice a `notices` row (with its poster's bytes as `poster_bytes`) records: exactly what was planned.
    static func notice(from row: Row) throws -> Notice {
        let id: String = row["id"]
        var notice = Notice(id: id, title: row["title"], text: row["text"], urgent: row["urgent"])
        if let sha256 = row["poster_sha256"] as String? {
            guard let bytes = row["poster_bytes"] as Data?, let poster = try? Poster(bytes: [UInt8](bytes)) else {
                throw LedgerError.storage("notice \(id): its poster \(sha256) is missing or not an image")
            }
            notice.poster = poster
            notice.poster?.url = row["image_url"]
        }
        if let url = row["link_url"] as String? {
            notice.link = LinkCard(
                url: url, title: row["link_title"] ?? "", description: row["link_description"] ?? "",
                pictureURL: row["link_picurl"])
        }
        return notice
    }

    public func deliveries(noticeID: String) async throws -> [DeliveryRecord] {
        try await records(where: "d.notice_id = ?", [noticeID])
    }

    public func deliveries(noticeID: String, states: Set<DeliveryState>, limit: Int) async throws -> [DeliveryRecord] {
        let names = String(data: try JSONEncoder().encode(states.map(\.rawValue).sorted()), encoding: .utf8)
        return try await records(
            where: "d.notice_id = ? AND d.state IN (SELECT value FROM json_each(?))", [noticeID, names],
            limit: limit
        )
    }

    public func stateCounts(noticeID: String) async throws -> [DeliveryState: Int] {
        try await read { db in
            var counts: [DeliveryState: Int] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS n FROM deliveries WHERE notice_id = ? GROUP BY state",
                arguments: [noticeID]
            )
            for row in rows {
                if let state = DeliveryState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    public func deliveries(matching filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        var conditions = ["1 = 1"]
        var arguments: StatementArguments = []
        var range: [String] = []
        var bounds: [Int64] = []
        if let from = filter.changedFrom {
            range.append("d.updated_at >= ?")
            bounds.append(from.ledgerMillis)
        }
        if let before = filter.changedBefore {
            range.append("d.updated_at < ?")
            bounds.append(before.ledgerMillis)
        }
        if let state = filter.state {
            // One state: its index (sent rows by time, the others by state) and the time on top.
            conditions.append(StateCondition.equals(state, column: "d.state"))
            conditions += range
            arguments += StatementArguments(bounds)
        } else if !range.isEmpty {
            let changed = StateCondition.changed(range.joined(separator: " AND "), arguments: bounds)
            conditions.append(changed.sql)
            arguments += StatementArguments(changed.arguments)
        }
        if let noticeID = filter.noticeID {
            conditions.append("d.notice_id = ?")
            arguments += [noticeID]
        }
        if let groupID = filter.groupID {
            conditions.append("d.group_id = ?")
            arguments += [groupID]
        }
        // Read in the order of `deliveries_notice` unless another filter narrows the rows better: a time range, a
        // state or a group is searched by its own index and the few rows found are sorted.
        let narrowed = filter.state != nil || !range.isEmpty || filter.groupID != nil
        return try await records(
            where: conditions.joined(separator: " AND "), arguments, limit: filter.limit, after: filter.after,
            sorted: narrowed)
    }

    public func resolve(
        noticeID: String,
        groupID: String,
        as resolution: Resolution,
        by operatorName: String,
        note: String,
        at: Date
    ) async throws -> DeliveryRecord {
        try await write { db in
            guard
                let state = try String.fetchOne(
                    db, sql: "SELECT state FROM deliveries WHERE notice_id = ? AND group_id = ?",
                    arguments: [noticeID, groupID]
                )
            else {
                throw LedgerError.invalid("no delivery of notice \(noticeID) to group \(groupID)")
            }
            guard state == DeliveryState.inDoubt.rawValue else {
                throw LedgerError.invalid(
                    "delivery of notice \(noticeID) to group \(groupID) is \(state), not in_doubt: nothing to resolve")
            }
            let millis = at.ledgerMillis
            let record = "resolved as \(resolution.rawValue) by \(operatorName)" + (note.isEmpty ? "" : ": \(note)")
            // `sent`: it is in the group; `resend`: it is not, so it is due again now.
            let assignment = resolution == .sent ? "state = 'sent', sent_at = ?" : "state = 'retry', next_at = ?"
            let change = try Row.fetchOne(
                db,
                sql: """
                    UPDATE deliveries SET \(assignment), last_error = ?, updated_at = ?
                    WHERE notice_id = ? AND group_id = ? AND state = 'in_doubt'
                    RETURNING *
                    """,
                arguments: [millis, record, millis, noticeID, groupID]
            )
            try EventLog.append(
                db, kind: .resolve, actor: operatorName, at: at,
                images: change.map { [RowImage(table: "deliveries", row: $0)] } ?? [])
            return try Row.fetchOne(
                db,
                sql: "\(Self.recordSelect) WHERE d.notice_id = ? AND d.group_id = ?",
                arguments: [noticeID, groupID]
            ).map(Self.record(from:))!
        }
    }

    /// Deliveries (with their notice's poster and card) matching `condition`, by notice then planning order, at most
    /// `limit`; with `after`, from the delivery after that one; `sorted` when an index of the condition finds them
    /// better than the order's.
    ///
    /// A page after a delivery is read in two parts, each a range of `deliveries_notice` (notice id, then rowid):
    /// the rest of that delivery's notice, then the notices after it. SQLite doesn't search an index by a row value
    /// that ends in the rowid, so the one comparison `(notice_id, rowid) > (…)` would read the index from its start
    /// for every page.
    private func records(
        where condition: String,
        _ arguments: StatementArguments,
        limit: Int? = nil,
        after: String? = nil,
        sorted: Bool = false
    ) async throws -> [DeliveryRecord] {
        // `+` keeps SQLite from walking `deliveries_notice` for the order when the rows are better found otherwise.
        let order = sorted ? "+d.notice_id, d.rowid" : "d.notice_id, d.rowid"
        return try await read { db in
            func fetch(_ extra: String, _ more: StatementArguments, limit: Int?) throws -> [DeliveryRecord] {
                // Decoded from the statement as it steps (a cursor), not from a copy of each row.
                var records: [DeliveryRecord] = []
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        \(Self.recordSelect)
                        WHERE \(condition)\(extra) ORDER BY \(order)
                        \(limit.map { "LIMIT \(max(0, $0))" } ?? "")
                        """,
                    arguments: arguments + more)
                while let row = try rows.next() { records.append(Self.record(from: row)) }
                return records
            }
            guard let after else { return try fetch("", [], limit: limit) }
            guard
                let start = try Row.fetchOne(
                    db, sql: "SELECT notice_id, rowid FROM deliveries WHERE id = ?", arguments: [after])
            else {
                throw LedgerError.invalid("no delivery '\(after)' in the ledger to list after")
            }
            let notice: String = start["notice_id"]
            let rowid: Int64 = start["rowid"]
            let rest = try fetch(" AND d.notice_id = ? AND d.rowid > ?", [notice, rowid], limit: limit)
            let left = limit.map { $0 - rest.count }
            if left == 0 { return rest }
            return rest + (try fetch(" AND d.notice_id > ?", [notice], limit: left))
        }
    }

    /// What a ``DeliveryRecord`` is read from: the delivery, its notice's title, poster (without its bytes) and
    /// card, in the order ``record(from:)`` reads them by position (a listing of a million rows reads them all).
    static let recordSelect = """
        SELECT d.id, d.notice_id, n.title, d.group_id, d.group_name, d.sink, d.state, d.attempts, d.parts_total,
            d.parts_sent, d.planned_at, d.first_attempt_at, d.last_attempt_at, d.sent_at, d.updated_at, d.next_at,
            d.lease_owner, d.lease_until, d.last_error, d.note, n.poster_sha256, p.format, p.size, n.image_url,
            n.link_url, n.link_title, n.link_description, n.link_picurl
        FROM deliveries d JOIN notices n ON n.id = d.notice_id LEFT JOIN posters p ON p.sha256 = n.poster_sha256
        """

    /// A row of ``recordSelect``.
    static func record(from row: Row) -> DeliveryRecord {
        func date(_ index: Int) -> Date? { (row[index] as Int64?).map(Date.init(ledgerMillis:)) }
        return DeliveryRecord(
            id: row[0], noticeID: row[1], noticeTitle: row[2], groupID: row[3], groupName: row[4], sink: row[5],
            state: DeliveryState(rawValue: row[6]) ?? .inDoubt,
            attempts: row[7], partsTotal: row[8], partsSent: row[9],
            plannedAt: Date(ledgerMillis: row[10]), firstAttemptAt: date(11), lastAttemptAt: date(12), sentAt: date(13),
            updatedAt: Date(ledgerMillis: row[14]), nextAt: date(15), leaseOwner: row[16], leaseUntil: date(17),
            lastError: row[18], note: row[19],
            poster: (row[20] as String?).map {
                PosterSummary(sha256: $0, format: row[21] ?? "", size: row[22] ?? 0, url: row[23])
            },
            link: (row[24] as String?).map {
                LinkCard(url: $0, title: row[25] ?? "", description: row[26] ?? "", pictureURL: row[27])
            }
        )
    }
}
