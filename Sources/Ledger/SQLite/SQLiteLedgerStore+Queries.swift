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
        return try await records(where: conditions.joined(separator: " AND "), arguments)
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
                sql: """
                    SELECT d.*, n.title AS notice_title, \(Self.noticeExtras) FROM deliveries d
                    JOIN notices n ON n.id = d.notice_id LEFT JOIN posters p ON p.sha256 = n.poster_sha256
                    WHERE d.notice_id = ? AND d.group_id = ?
                    """,
                arguments: [noticeID, groupID]
            ).map(Self.record(from:))!
        }
    }

    private func records(
        where condition: String,
        _ arguments: StatementArguments,
        limit: Int? = nil
    ) async throws -> [DeliveryRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, n.title AS notice_title, \(Self.noticeExtras) FROM deliveries d
                    JOIN notices n ON n.id = d.notice_id LEFT JOIN posters p ON p.sha256 = n.poster_sha256
                    WHERE \(condition) ORDER BY d.notice_id, d.rowid \(limit.map { "LIMIT \(max(0, $0))" } ?? "")
                    """,
                arguments: arguments
            ).map(Self.record(from:))
        }
    }

    /// The notice's poster (without its bytes) and card, as listings show them beside each delivery.
    static let noticeExtras = """
        n.poster_sha256, p.format AS poster_format, p.size AS poster_size, n.image_url, n.link_url, n.link_title,
        n.link_description, n.link_picurl
        """

    static func record(from row: Row) -> DeliveryRecord {
        func date(_ column: String) -> Date? { (row[column] as Int64?).map(Date.init(ledgerMillis:)) }
        return DeliveryRecord(
            id: row["id"], noticeID: row["notice_id"], noticeTitle: row["notice_title"], groupID: row["group_id"],
            groupName: row["group_name"], sink: row["sink"],
            state: DeliveryState(rawValue: row["state"]) ?? .inDoubt,
            attempts: row["attempts"], partsTotal: row["parts_total"], partsSent: row["parts_sent"],
            plannedAt: Date(ledgerMillis: row["planned_at"]), firstAttemptAt: date("first_attempt_at"),
            lastAttemptAt: date("last_attempt_at"), sentAt: date("sent_at"),
            updatedAt: Date(ledgerMillis: row["updated_at"]), nextAt: date("next_at"),
            leaseOwner: row["lease_owner"], leaseUntil: date("lease_until"), lastError: row["last_error"],
            note: row["note"],
            poster: (row["poster_sha256"] as String?).map {
                PosterSummary(
                    sha256: $0, format: row["poster_format"] ?? "", size: row["poster_size"] ?? 0, url: row["image_url"]
                )
            },
            link: (row["link_url"] as String?).map {
                LinkCard(
                    url: $0, title: row["link_title"] ?? "", description: row["link_description"] ?? "",
                    pictureURL: row["link_picurl"])
            }
        )
    }
}
