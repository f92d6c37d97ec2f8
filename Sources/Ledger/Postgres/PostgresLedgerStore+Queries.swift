import Foundation
import GridcastCore
import PostgresNIO

/// What is due, listings, counts and the operator's settling (``LedgerQueries``, and the reads of dispatch), as the
/// SQLite store answers them.
extension PostgresLedgerStore {
    public func pending(noticeID: String?, now: Date) async throws -> PendingStatus {
        let millis = now.ledgerMillis
        let onlyNotice = noticeID == nil ? "" : " AND notice_id = $2"
        var binds = PostgresBindings(capacity: 2)
        binds.append(millis)
        if let noticeID { binds.append(noticeID) }
        // States and the sink as literals: the planner then matches the partial indexes without looking at binds.
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT
                    COUNT(*) FILTER (WHERE state IN ('planned', 'retry') AND next_at <= $1) AS due,
                    COUNT(*) FILTER (WHERE state IN ('planned', 'retry') AND next_at > $1) AS later,
                    MIN(next_at) FILTER (WHERE state IN ('planned', 'retry') AND next_at > $1) AS next_due,
                    COUNT(*) FILTER (WHERE state = 'claimed') AS claimed,
                    MIN(lease_until) FILTER (WHERE state = 'claimed') AS lease_expiry
                FROM deliveries WHERE state IN ('planned', 'retry', 'claimed')
                    AND sink <> '\(Group.customerGroupSink)'\(onlyNotice)
                """,
            binds: binds)
        return try await read { tx in
            guard let row = try await tx.row(query) else { return PendingStatus() }
            let (due, later, nextDue, claimed, leaseExpiry) = try row.decode((Int64, Int64, Int64?, Int64, Int64?).self)
            return PendingStatus(
                dueNow: Int(due), later: Int(later), nextDueAt: nextDue.map(Date.init(ledgerMillis:)),
                claimed: Int(claimed), nextLeaseExpiry: leaseExpiry.map(Date.init(ledgerMillis:)))
        }
    }

    public func notices(ids: [String]) async throws -> [String: StoredNotice] {
        guard !ids.isEmpty else { return [:] }
        return try await read { tx in
            let rows = try await tx.rows(
                """
                SELECT n.id, n.title, n.text, n.urgent, n.content_hash, n.selector, n.origin, n.created_at,
                    n.poster_sha256, n.image_url, n.link_url, n.link_title, n.link_description, n.link_picurl,
                    p.bytes AS poster_bytes
                FROM notices n LEFT JOIN posters p ON p.sha256 = n.poster_sha256
                WHERE n.id = ANY(\(ids))
                """)
            var result: [String: StoredNotice] = [:]
            for row in rows {
                let notice = try Self.notice(from: row)
                let columns = row.makeRandomAccess()
                result[notice.id] = StoredNotice(
                    notice: notice, contentHash: try columns["content_hash"].decode(String.self),
                    selector: try columns["selector"].decode(String.self),
                    origin: try columns["origin"].decode(String.self),
                    createdAt: Date(ledgerMillis: try columns["created_at"].decode(Int64.self)))
            }
            return result
        }
    }

    /// The notice a `notices` row (with its poster's bytes as `poster_bytes`) records: exactly what was planned.
    static func notice(from row: PostgresRow) throws -> Notice {
        let row = row.makeRandomAccess()
        func text(_ column: String) throws -> String? { try row[column].decode(String?.self) }
        let id = try row["id"].decode(String.self)
        var notice = Notice(
            id: id, title: try row["title"].decode(String.self), text: try row["text"].decode(String.self),
            urgent: try row["urgent"].decode(Int64.self) != 0)
        if let sha256 = try text("poster_sha256") {
            guard let bytes = try row["poster_bytes"].decode(Data?.self),
                let poster = try? Poster(bytes: [UInt8](bytes))
            else {
                throw LedgerError.storage("notice \(id): its poster \(sha256) is missing or not an image")
            }
            notice.poster = poster
            notice.poster?.url = try text("image_url")
        }
        if let url = try text("link_url") {
            notice.link = LinkCard(
                url: url, title: try text("link_title") ?? "", description: try text("link_description") ?? "",
                pictureURL: try text("link_picurl"))
        }
        return notice
    }

    public func deliveries(noticeID: String) async throws -> [DeliveryRecord] {
        var binds = PostgresBindings(capacity: 1)
        binds.append(noticeID)
        return try await records(where: "d.notice_id = $1", binds, oneNotice: true)
    }

    public func deliveries(noticeID: String, states: Set<DeliveryState>, limit: Int) async throws -> [DeliveryRecord] {
        var binds = PostgresBindings(capacity: 2)
        binds.append(noticeID)
        binds.append(states.map(\.rawValue).sorted())
        return try await records(where: "d.notice_id = $1 AND d.state = ANY($2)", binds, oneNotice: true, limit: limit)
    }

    public func stateCounts(noticeID: String) async throws -> [DeliveryState: Int] {
        try await read { tx in
            var counts: [DeliveryState: Int] = [:]
            let rows = try await tx.rows(
                "SELECT state, COUNT(*) FROM deliveries WHERE notice_id = \(noticeID) GROUP BY state")
            for row in rows {
                let (name, count) = try row.decode((String, Int64).self)
                if let state = DeliveryState(rawValue: name) { counts[state] = Int(count) }
            }
            return counts
        }
    }

    public func deliveries(matching filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        var conditions = ["TRUE"]
        var binds = PostgresBindings()
        if let state = filter.state {
            // A literal, as on SQLite: the partial index of the open states then serves it without a bind's value.
            conditions.append("d.state = '\(state.rawValue)'")
        }
        // SQLite splits a time range over its partial indexes by state; here `deliveries_updated` serves it whole.
        if let from = filter.changedFrom {
            binds.append(from.ledgerMillis)
            conditions.append("d.updated_at >= $\(binds.count)")
        }
        if let before = filter.changedBefore {
            binds.append(before.ledgerMillis)
            conditions.append("d.updated_at < $\(binds.count)")
        }
        if let noticeID = filter.noticeID {
            binds.append(noticeID)
            conditions.append("d.notice_id = $\(binds.count)")
        }
        if let groupID = filter.groupID {
            binds.append(groupID)
            conditions.append("d.group_id = $\(binds.count)")
        }
        if let after = filter.after {
            // The page after a delivery: `deliveries_notice` (notice id, then planning order) serves the order and
            // the start.
            binds.append(after)
            conditions.append(
                "(d.notice_id, d.pos) > (SELECT notice_id, pos FROM deliveries WHERE id = $\(binds.count))")
        }
        return try await records(
            where: conditions.joined(separator: " AND "), binds, oneNotice: filter.noticeID != nil,
            limit: filter.limit, after: filter.after)
    }

    public func resolve(
        noticeID: String,
        groupID: String,
        as resolution: Resolution,
        by operatorName: String,
        note: String,
        at: Date
    ) async throws -> DeliveryRecord {
        try await write { tx in
            // Locked, so that the state checked is the state changed (SQLite's write lock does this there).
            guard
                let state = try await tx.value(
                    """
                    SELECT state FROM deliveries WHERE notice_id = \(noticeID) AND group_id = \(groupID) FOR UPDATE
                    """, as: String.self)
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
            let assignment = resolution == .sent ? "state = 'sent', sent_at" : "state = 'retry', next_at"
            let change = try await tx.row(
                """
                UPDATE deliveries SET \(unescaped: assignment) = \(millis), last_error = \(record), updated_at = \(millis)
                WHERE notice_id = \(noticeID) AND group_id = \(groupID) AND state = 'in_doubt'
                RETURNING \(unescaped: PostgresSchema.imageColumns["deliveries"]!)
                """)
            try await EventLog.append(
                tx, kind: .resolve, actor: operatorName, at: at,
                images: try change.map { [try PostgresImageWriter.image(table: "deliveries", of: $0)] } ?? [])
            guard
                let row = try await tx.row(
                    """
                    SELECT \(unescaped: PostgresDeliveryRows.columns), \(unescaped: PostgresDeliveryRows.noticeExtras)
                    FROM deliveries d JOIN notices n ON n.id = d.notice_id
                    LEFT JOIN posters p ON p.sha256 = n.poster_sha256
                    WHERE d.notice_id = \(noticeID) AND d.group_id = \(groupID)
                    """)
            else {
                throw LedgerError.storage("delivery of notice \(noticeID) to group \(groupID) vanished while resolved")
            }
            return try PostgresDeliveryRows.record(from: row)
        }
    }

    /// Deliveries (with their notice's poster and card) matching `condition`, whose `$n` are `binds`, by notice then
    /// planning order; `oneNotice` when the condition fixes the notice, so that planning order alone sorts them.
    private func records(
        where condition: String, _ binds: PostgresBindings, oneNotice: Bool, limit: Int? = nil, after: String? = nil
    ) async throws -> [DeliveryRecord] {
        // Notice ids sort bytewise, as SQLite's BINARY collation sorts them: the column compares as "C".
        let order = oneNotice ? "d.pos" : "d.notice_id, d.pos"
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT \(PostgresDeliveryRows.columns), \(PostgresDeliveryRows.noticeExtras)
                FROM deliveries d JOIN notices n ON n.id = d.notice_id LEFT JOIN posters p ON p.sha256 = n.poster_sha256
                WHERE \(condition) ORDER BY \(order)\(limit.map { " LIMIT \(max(0, $0))" } ?? "")
                """,
            binds: binds)
        return try await read { tx in
            if let after,
                try await tx.value("SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = \(after))", as: Bool.self)
                    != true
            {
                throw LedgerError.invalid("no delivery '\(after)' in the ledger to list after")
            }
            return try await tx.rows(query).map(PostgresDeliveryRows.record(from:))
        }
    }
}
