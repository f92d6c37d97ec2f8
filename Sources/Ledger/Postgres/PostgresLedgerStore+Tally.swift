import Foundation
import PostgresNIO

/// Reports' counts (``LedgerQueries/tally(days:groups:)``) added up by PostgreSQL, in one read-only snapshot: a few
/// aggregate statements over the period's rows, and the failures among them, as on SQLite.
extension PostgresLedgerStore {
    public func tally(days: [Range<Date>], groups: Set<String>?) async throws -> DeliveryTally {
        guard let first = days.first, let last = days.last else {
            return DeliveryTally(groups: [], notices: [], days: [], failures: [])
        }
        var condition = "d.updated_at >= $1 AND d.updated_at < $2"
        var binds = PostgresBindings()
        binds.append(first.lowerBound.ledgerMillis)
        binds.append(last.upperBound.ledgerMillis)
        if let groups {
            binds.append(groups.sorted())
            condition += " AND d.group_id = ANY($3)"
        }
        let dayQueries = Self.dayQueries(days, condition: condition, binds: binds)
        let failures = DeliveryState.failures.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let queries = (
            groups: PostgresQuery(
                unsafeSQL: """
                    SELECT d.group_id, max(d.group_name), max(d.sink), d.state, count(*) FROM deliveries d
                    WHERE \(condition) GROUP BY d.group_id, d.state ORDER BY d.group_id
                    """, binds: binds),
            notices: PostgresQuery(
                unsafeSQL: """
                    SELECT t.notice_id, n.title, t.state, t.count FROM (
                        SELECT d.notice_id, d.state, count(*) AS count FROM deliveries d WHERE \(condition)
                        GROUP BY d.notice_id, d.state) t
                    JOIN notices n ON n.id = t.notice_id
                    """, binds: binds),
            days: dayQueries.days,
            sent: dayQueries.sent,
            failures: PostgresQuery(
                unsafeSQL: """
                    SELECT \(PostgresDeliveryRows.columns), \(PostgresDeliveryRows.noticeExtras)
                    FROM deliveries d JOIN notices n ON n.id = d.notice_id
                    LEFT JOIN posters p ON p.sha256 = n.poster_sha256
                    WHERE d.state IN (\(failures)) AND \(condition) ORDER BY d.notice_id, d.pos
                    """, binds: binds)
        )
        let count = days.count
        // One snapshot for every count.
        return try await snapshot { tx in try await Self.tally(queries, days: count, in: tx) }
    }

    public func dayTally(days: [Range<Date>]) async throws -> [DeliveryTally.Day] {
        guard let first = days.first, let last = days.last else { return [] }
        var binds = PostgresBindings()
        binds.append(first.lowerBound.ledgerMillis)
        binds.append(last.upperBound.ledgerMillis)
        let queries = Self.dayQueries(days, condition: "d.updated_at >= $1 AND d.updated_at < $2", binds: binds)
        let count = days.count
        return try await snapshot { tx in
            try await Self.dayCounts(days: queries.days, sent: queries.sent, count: count, in: tx)
        }
    }

    /// The statements of ``dayCounts(days:sent:count:in:)`` for the deliveries of `condition`.
    private static func dayQueries(
        _ days: [Range<Date>], condition: String, binds: PostgresBindings
    ) -> (days: PostgresQuery, sent: PostgresQuery) {
        let day = DeliveryTally.dayIndex(of: "d.updated_at", in: days)
        return (
            PostgresQuery(
                unsafeSQL: "SELECT \(day), d.state, count(*) FROM deliveries d WHERE \(condition) GROUP BY 1, 2",
                binds: binds),
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(day), count(DISTINCT d.notice_id), count(DISTINCT d.group_id) FROM deliveries d
                    WHERE d.state = 'sent' AND \(condition) GROUP BY 1
                    """, binds: binds)
        )
    }

    /// Each day's counts by state (`days`: day index, state, count) and its notices and groups sent to (`sent`).
    private static func dayCounts(
        days: PostgresQuery, sent: PostgresQuery, count: Int, in tx: PostgresTransaction
    ) async throws -> [DeliveryTally.Day] {
        var dayRows = Array(repeating: DeliveryTally.Day(states: [:], sentNotices: 0, sentGroups: 0), count: count)
        for row in try await tx.rows(days) {
            let (index, state, n) = try row.decode((Int32, String, Int64).self)
            if let state = DeliveryState(rawValue: state) { dayRows[Int(index)].states[state] = Int(n) }
        }
        for row in try await tx.rows(sent) {
            let (index, notices, groups) = try row.decode((Int32, Int64, Int64).self)
            dayRows[Int(index)].sentNotices = Int(notices)
            dayRows[Int(index)].sentGroups = Int(groups)
        }
        return dayRows
    }

    /// Runs the tally's statements inside the caller's snapshot.
    private static func tally(
        _ queries: (
            groups: PostgresQuery, notices: PostgresQuery, days: PostgresQuery, sent: PostgresQuery,
            failures: PostgresQuery
        ), days count: Int, in tx: PostgresTransaction
    ) async throws -> DeliveryTally {
        var groupRows: [DeliveryTally.Group] = []
        for row in try await tx.rows(queries.groups) {
            let (id, name, sink, state, n) = try row.decode((String, String, String, String, Int64).self)
            if groupRows.last?.id != id {
                groupRows.append(DeliveryTally.Group(id: id, name: name, sink: sink, states: [:]))
            }
            groupRows[groupRows.count - 1].name = max(groupRows[groupRows.count - 1].name, name)
            groupRows[groupRows.count - 1].sink = max(groupRows[groupRows.count - 1].sink, sink)
            if let state = DeliveryState(rawValue: state) { groupRows[groupRows.count - 1].states[state] = Int(n) }
        }
        var notices: [String: DeliveryTally.Notice] = [:]
        for row in try await tx.rows(queries.notices) {
            let (id, title, state, n) = try row.decode((String, String, String, Int64).self)
            if let state = DeliveryState(rawValue: state) {
                notices[id, default: DeliveryTally.Notice(id: id, title: title, states: [:])].states[state] = Int(n)
            }
        }
        let dayRows = try await dayCounts(days: queries.days, sent: queries.sent, count: count, in: tx)
        let failed = try await tx.rows(queries.failures).map(PostgresDeliveryRows.record(from:))
        return DeliveryTally(groups: groupRows, notices: Array(notices.values), days: dayRows, failures: failed)
    }
}
