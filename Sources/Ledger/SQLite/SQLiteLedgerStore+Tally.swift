import Foundation
import GRDB

/// Reports' counts (``LedgerQueries/tally(days:groups:)``) added up by SQLite, in one read transaction: a few
/// aggregate statements, and the failures as rows. A period of whole quarter hours counted for every group reads the
/// running sums (``TallyTables``) and the open rows; any other (or a ledger not yet upgraded) reads the period's rows.
extension SQLiteLedgerStore {
    public func tally(days: [Range<Date>], groups: Set<String>?) async throws -> DeliveryTally {
        guard let first = days.first, let last = days.last else {
            return DeliveryTally(groups: [], notices: [], days: [], failures: [])
        }
        var condition = "d.updated_at >= ? AND d.updated_at < ?"
        var arguments: StatementArguments = [first.lowerBound.ledgerMillis, last.upperBound.ledgerMillis]
        if let groups {
            condition += " AND d.group_id IN (SELECT value FROM json_each(?))"
            arguments += [String(decoding: try JSONEncoder().encode(groups.sorted()), as: UTF8.self)]
        }
        let buckets = groups == nil ? TallyTables.buckets(days) : nil
        let failures = StateCondition.any(of: DeliveryState.failures, column: "d.state")
        return try await read { [condition, arguments] db in
            let sources = try TallySources(db, condition: condition, arguments: arguments, buckets: buckets)
            // The first part's groups come in id order; a later part's (the open rows: few) are found among them.
            var groupRows: [DeliveryTally.Group] = []
            var laterGroups: [DeliveryTally.Group] = []
            for (index, (partSQL, partArguments)) in sources.groupParts.enumerated() {
                let counts = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT group_id, max(group_name), max(sink), state, sum(count) FROM (\(partSQL))
                        GROUP BY group_id, state ORDER BY group_id
                        """, arguments: partArguments)
                while let row = try counts.next() {
                    let id: String = row[0]
                    let position: Int
                    if index == 0 {
                        if groupRows.last?.id != id {
                            groupRows.append(DeliveryTally.Group(id: id, name: "", sink: "", states: [:]))
                        }
                        position = groupRows.count - 1
                    } else if let found = Self.position(of: id, in: groupRows) {
                        position = found
                    } else {
                        if laterGroups.last?.id != id {
                            laterGroups.append(DeliveryTally.Group(id: id, name: "", sink: "", states: [:]))
                        }
                        laterGroups[laterGroups.count - 1].count(row)
                        continue
                    }
                    groupRows[position].count(row)
                }
            }
            groupRows += laterGroups
            var notices: [String: DeliveryTally.Notice] = [:]
            let (noticeSQL, noticeArguments) = sources.notices
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT t.notice_id, n.title, t.state, t.count FROM (
                        SELECT notice_id, state, sum(count) AS count FROM (\(noticeSQL)) GROUP BY notice_id, state) t
                    JOIN notices n ON n.id = t.notice_id
                    """, arguments: noticeArguments)
            {
                let id: String = row[0]
                if let state = DeliveryState(rawValue: row[2]) {
                    notices[id, default: DeliveryTally.Notice(id: id, title: row[1], states: [:])].states[state] =
                        row[3]
                }
            }
            let dayRows = try Self.dayCounts(db, days: days, sources: sources)
            var failed: [DeliveryRecord] = []
            let rows = try Row.fetchCursor(
                db, sql: "\(Self.recordSelect) WHERE \(failures) AND \(condition) ORDER BY d.notice_id, d.rowid",
                arguments: arguments)
            while let row = try rows.next() { failed.append(Self.record(from: row)) }
            return DeliveryTally(groups: groupRows, notices: Array(notices.values), days: dayRows, failures: failed)
        }
    }

    public func dayTally(days: [Range<Date>]) async throws -> [DeliveryTally.Day] {
        guard let first = days.first, let last = days.last else { return [] }
        let buckets = TallyTables.buckets(days)
        return try await read { db in
            let sources = try TallySources(
                db, condition: "d.updated_at >= ? AND d.updated_at < ?",
                arguments: [first.lowerBound.ledgerMillis, last.upperBound.ledgerMillis], buckets: buckets)
            return try Self.dayCounts(db, days: days, sources: sources)
        }
    }

    /// Each day's counts by state, and the notices and groups with a delivery sent that day.
    private static func dayCounts(
        _ db: Database, days: [Range<Date>], sources: TallySources
    ) throws -> [DeliveryTally.Day] {
        let (noticeSQL, noticeArguments) = sources.notices
        var dayRows = Array(
            repeating: DeliveryTally.Day(states: [:], sentNotices: 0, sentGroups: 0), count: days.count)
        let day = DeliveryTally.dayIndex(of: "at", in: days)
        for row in try Row.fetchAll(
            db, sql: "SELECT \(day), state, sum(count) FROM (\(noticeSQL)) GROUP BY 1, 2",
            arguments: noticeArguments)
        {
            if let state = DeliveryState(rawValue: row[1]) { dayRows[row[0]].states[state] = row[2] }
        }
        // Sent is never an open state: the first part (the sums, or the rows) holds every sent delivery.
        let sent = StateCondition.equals(.sent)
        let (groupSQL, groupArguments) = sources.groupParts[0]
        for row in try Row.fetchAll(
            db, sql: "SELECT \(day), count(DISTINCT notice_id) FROM (\(noticeSQL)) WHERE \(sent) GROUP BY 1",
            arguments: noticeArguments)
        {
            dayRows[row[0]].sentNotices = row[1]
        }
        for row in try Row.fetchAll(
            db, sql: "SELECT \(day), count(DISTINCT group_id) FROM (\(groupSQL)) WHERE \(sent) GROUP BY 1",
            arguments: groupArguments)
        {
            dayRows[row[0]].sentGroups = row[1]
        }
        return dayRows
    }

    /// Where the group `id` is in `groups`, which are in SQLite's order (their ids' bytes), or nil.
    private static func position(of id: String, in groups: [DeliveryTally.Group]) -> Int? {
        var range = groups.startIndex..<groups.endIndex
        while !range.isEmpty {
            let middle = range.lowerBound + range.count / 2
            if groups[middle].id.utf8.elementsEqual(id.utf8) { return middle }
            if groups[middle].id.utf8.lexicographicallyPrecedes(id.utf8) {
                range = middle + 1..<range.upperBound
            } else {
                range = range.lowerBound..<middle
            }
        }
        return nil
    }
}

extension DeliveryTally.Group {
    /// Adds a row of `group_id, name, sink, state, count`: the greatest name and platform, the state's count.
    fileprivate mutating func count(_ row: Row) {
        name = max(name, row[1])
        sink = max(sink, row[2])
        if let state = DeliveryState(rawValue: row[3]) { states[state] += row[4] as Int }
    }
}

/// Where a tally reads its counts: subqueries with one row per count (`at`, a time in the count's day; the keys;
/// `state`; `count`), from the running sums and the open rows, or from the period's rows alone.
private struct TallySources {
    /// Per group: `at, group_id, group_name, sink, state, count`, in parts that add up to the counts, each
    /// counted on its own: the sums alone are read in their order.
    let groupParts: [(String, StatementArguments)]
    /// Per notice: `at, notice_id, state, count`.
    let notices: (String, StatementArguments)

    /// The sources of the deliveries of `condition`: the sums for `buckets` and the open rows when there are
    /// buckets and `db` has sums (a ledger opened read-only before its upgrade has none yet), else the rows.
    init(_ db: Database, condition: String, arguments: StatementArguments, buckets: Range<Int64>?) throws {
        let width = TallyTables.bucketMillis
        guard let buckets, try db.tableExists("tally_groups") else {
            groupParts = [
                (
                    """
                    SELECT d.updated_at AS at, d.group_id, d.group_name, d.sink, d.state, 1 AS count FROM deliveries d
                    WHERE \(condition)
                    """, arguments
                )
            ]
            notices = (
                "SELECT d.updated_at AS at, d.notice_id, d.state, 1 AS count FROM deliveries d WHERE \(condition)",
                arguments
            )
            return
        }
        let open = "\(TallyTables.open(column: "d.state")) AND \(condition)"
        let summed: StatementArguments = [buckets.lowerBound, buckets.upperBound]
        let sums = """
            SELECT bucket * \(width) AS at, group_id, group_name, sink, state, count FROM tally_groups
            WHERE bucket >= ? AND bucket < ?
            """
        let openRows = """
            SELECT d.updated_at AS at, d.group_id, d.group_name, d.sink, d.state, 1 AS count FROM deliveries d
            WHERE \(open)
            """
        groupParts = [(sums, summed), (openRows, arguments)]
        notices = (
            """
            SELECT bucket * \(width) AS at, notice_id, state, count FROM tally_notices WHERE bucket >= ? AND bucket < ?
            UNION ALL
            SELECT d.updated_at, d.notice_id, d.state, 1 FROM deliveries d WHERE \(open)
            """, summed + arguments
        )
    }
}
