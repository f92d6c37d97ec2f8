import Foundation
import GRDB

/// Reports' counts (``LedgerQueries/tally(days:groups:)``) added up by SQLite, in one read transaction: a few
/// aggregate statements over the period's rows, and the failures among them. Nothing is read row by row but the
/// failures.
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
        let day = DeliveryTally.dayIndex(of: "d.updated_at", in: days)
        let failures = StateCondition.any(of: DeliveryState.failures, column: "d.state")
        return try await read { [condition, arguments] db in
            var groupRows: [DeliveryTally.Group] = []
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT d.group_id, max(d.group_name), max(d.sink), d.state, count(*) FROM deliveries d
                    WHERE \(condition) GROUP BY d.group_id, d.state ORDER BY d.group_id
                    """, arguments: arguments)
            {
                let id: String = row[0]
                if groupRows.last?.id != id {
                    groupRows.append(DeliveryTally.Group(id: id, name: "", sink: "", states: [:]))
                }
                groupRows[groupRows.count - 1].name = max(groupRows[groupRows.count - 1].name, row[1])
                groupRows[groupRows.count - 1].sink = max(groupRows[groupRows.count - 1].sink, row[2])
                if let state = DeliveryState(rawValue: row[3]) { groupRows[groupRows.count - 1].states[state] = row[4] }
            }
            var notices: [String: DeliveryTally.Notice] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT t.notice_id, n.title, t.state, t.count FROM (
                        SELECT d.notice_id, d.state, count(*) AS count FROM deliveries d WHERE \(condition)
                        GROUP BY d.notice_id, d.state) t
                    JOIN notices n ON n.id = t.notice_id
                    """, arguments: arguments)
            {
                let id: String = row[0]
                if let state = DeliveryState(rawValue: row[2]) {
                    notices[id, default: DeliveryTally.Notice(id: id, title: row[1], states: [:])].states[state] =
                        row[3]
                }
            }
            var dayRows = Array(
                repeating: DeliveryTally.Day(states: [:], sentNotices: 0, sentGroups: 0), count: days.count)
            for row in try Row.fetchAll(
                db, sql: "SELECT \(day), d.state, count(*) FROM deliveries d WHERE \(condition) GROUP BY 1, 2",
                arguments: arguments)
            {
                if let state = DeliveryState(rawValue: row[1]) { dayRows[row[0]].states[state] = row[2] }
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(day), count(DISTINCT d.notice_id), count(DISTINCT d.group_id) FROM deliveries d
                    WHERE \(StateCondition.equals(.sent, column: "d.state")) AND \(condition) GROUP BY 1
                    """, arguments: arguments)
            {
                dayRows[row[0]].sentNotices = row[1]
                dayRows[row[0]].sentGroups = row[2]
            }
            var failed: [DeliveryRecord] = []
            let rows = try Row.fetchCursor(
                db, sql: "\(Self.recordSelect) WHERE \(failures) AND \(condition) ORDER BY d.notice_id, d.rowid",
                arguments: arguments)
            while let row = try rows.next() { failed.append(Self.record(from: row)) }
            return DeliveryTally(groups: groupRows, notices: Array(notices.values), days: dayRows, failures: failed)
        }
    }
}
