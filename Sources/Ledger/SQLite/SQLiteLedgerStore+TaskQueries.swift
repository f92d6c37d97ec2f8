import Foundation
import GRDB
import GridcastCore

/// What reports, the admin summary and listings read about mass-message tasks (``LedgerQueries``): aggregates over
/// `deliveries` joined to `mass_tasks`, never the rows themselves.
extension SQLiteLedgerStore {
    public func awaitingMembers(since: Date, until: Date) async throws -> [AwaitingMember] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.app, t.owner, COUNT(*) AS groups, MIN(t.created_at) AS oldest
                    FROM deliveries d JOIN mass_tasks t ON t.id = d.task_id
                    WHERE d.state = 'awaiting_confirmation' AND d.updated_at >= ? AND d.updated_at < ?
                    GROUP BY t.app, t.owner ORDER BY groups DESC, t.app, t.owner
                    """,
                arguments: [since.ledgerMillis, until.ledgerMillis]
            ).map {
                AwaitingMember(
                    app: $0["app"], member: $0["owner"], groups: $0["groups"],
                    oldestTaskCreatedAt: Date(ledgerMillis: $0["oldest"]))
            }
        }
    }

    public func tasksCreated(from start: Date, to end: Date, groups: Set<String>?) async throws -> Int {
        var sql =
            "SELECT COUNT(*) FROM mass_tasks t WHERE t.msgid IS NOT NULL AND t.created_at >= ? AND t.created_at < ?"
        let named = try groups.map { String(decoding: try JSONEncoder().encode($0.sorted()), as: UTF8.self) }
        if named != nil {
            sql += """
                 AND EXISTS (SELECT 1 FROM deliveries d WHERE d.task_id = t.id
                    AND d.group_id IN (SELECT value FROM json_each(?)))
                """
        }
        let (from, until) = (start.ledgerMillis, end.ledgerMillis)
        return try await read { [sql] db in
            var arguments: StatementArguments = [from, until]
            if let named { arguments += [named] }
            return try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
        }
    }

    public func taskMessageIDs(noticeIDs: [String]) async throws -> [String: String] {
        guard !noticeIDs.isEmpty else { return [:] }
        let ids = String(decoding: try JSONEncoder().encode(noticeIDs), as: UTF8.self)
        return try await read { db in
            var result: [String: String] = [:]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, t.msgid FROM deliveries d JOIN mass_tasks t ON t.id = d.task_id
                    WHERE d.notice_id IN (SELECT value FROM json_each(?)) AND t.msgid IS NOT NULL
                    """,
                arguments: [ids]
            )
            for row in rows { result[row["id"]] = row["msgid"] }
            return result
        }
    }
}
