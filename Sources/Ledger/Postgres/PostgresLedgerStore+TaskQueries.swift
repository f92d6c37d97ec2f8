import Foundation
import GridcastCore
import PostgresNIO

/// What reports, the admin summary and listings read about mass-message tasks (``LedgerQueries``): aggregates over
/// `deliveries` joined to `mass_tasks`, never the rows themselves.
extension PostgresLedgerStore {
    public func awaitingMembers(since: Date, until: Date) async throws -> [AwaitingMember] {
        try await read { tx in
            // App and owner sort bytewise, as SQLite's BINARY collation sorts them.
            try await tx.rows(
                """
                SELECT t.app, t.owner, COUNT(*) AS groups, MIN(t.created_at) AS oldest
                FROM deliveries d JOIN mass_tasks t ON t.id = d.task_id
                WHERE d.state = 'awaiting_confirmation' AND d.updated_at >= \(since.ledgerMillis)
                    AND d.updated_at < \(until.ledgerMillis)
                GROUP BY t.app, t.owner ORDER BY groups DESC, t.app COLLATE "C", t.owner COLLATE "C"
                """
            ).map {
                let (app, owner, groups, oldest) = try $0.decode((String, String, Int64, Int64).self)
                return AwaitingMember(
                    app: app, member: owner, groups: Int(groups), oldestTaskCreatedAt: Date(ledgerMillis: oldest))
            }
        }
    }

    public func tasksCreated(from start: Date, to end: Date, groups: Set<String>?) async throws -> Int {
        let (from, until) = (start.ledgerMillis, end.ledgerMillis)
        let named = groups.map { $0.sorted() }
        return try await read { tx in
            let count: Int64?
            if let named {
                count = try await tx.value(
                    """
                    SELECT COUNT(*) FROM mass_tasks t
                    WHERE t.msgid IS NOT NULL AND t.created_at >= \(from) AND t.created_at < \(until)
                        AND EXISTS (SELECT 1 FROM deliveries d WHERE d.task_id = t.id AND d.group_id = ANY(\(named)))
                    """, as: Int64.self)
            } else {
                count = try await tx.value(
                    """
                    SELECT COUNT(*) FROM mass_tasks t
                    WHERE t.msgid IS NOT NULL AND t.created_at >= \(from) AND t.created_at < \(until)
                    """, as: Int64.self)
            }
            return Int(count ?? 0)
        }
    }

    public func taskMessageIDs(noticeIDs: [String]) async throws -> [String: String] {
        guard !noticeIDs.isEmpty else { return [:] }
        return try await read { tx in
            var result: [String: String] = [:]
            let rows = try await tx.rows(
                """
                SELECT d.id, t.msgid FROM deliveries d JOIN mass_tasks t ON t.id = d.task_id
                WHERE d.notice_id = ANY(\(noticeIDs)) AND t.msgid IS NOT NULL
                """)
            for row in rows {
                let (id, msgid) = try row.decode((String, String).self)
                result[id] = msgid
            }
            return result
        }
    }
}
