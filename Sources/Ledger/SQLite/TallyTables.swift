import Foundation
import GRDB

/// The reports' running sums, `tally_groups` and `tally_notices` (docs/ledger.md, "Tallies"): deliveries counted by
/// quarter hour of their latest change, group or notice, and state, kept by triggers as rows change. The open
/// states are not summed; reports count those from the rows.
enum TallyTables {
    /// A bucket's width in milliseconds: every time zone's midnight falls on a quarter hour.
    static let bucketMillis: Int64 = 900_000

    /// The states the triggers leave out, as a condition on `column` that `deliveries_unsent` answers.
    static func open(column: String) -> String { StateCondition.any(of: [.planned, .claimed, .retry], column: column) }

    /// The buckets `days` cover, when each day starts and ends on a bucket's edge; nil otherwise (a zone's offset
    /// of old, like Shanghai's before 1901), for which reports count rows.
    static func buckets(_ days: [Range<Date>]) -> Range<Int64>? {
        func onEdge(_ date: Date) -> Bool { date.ledgerMillis % bucketMillis == 0 }
        guard let first = days.first, let last = days.last,
            days.allSatisfy({ onEdge($0.lowerBound) && onEdge($0.upperBound) })
        else { return nil }
        return first.lowerBound.ledgerMillis / bucketMillis..<last.upperBound.ledgerMillis / bucketMillis
    }

    /// The first sum that is not what the rows add up to, in words; nil when both tables equal the rows.
    static func problem(_ db: Database) throws -> String? {
        let settled = "NOT \(open(column: "state"))"
        let checks = [
            (
                "tally_groups", "group_id, group_name, sink, state",
                "SELECT bucket, group_id, group_name, sink, state, count FROM tally_groups",
                """
                SELECT updated_at / \(bucketMillis), group_id, group_name, sink, state, count(*) FROM deliveries
                WHERE \(settled) GROUP BY 1, 2, 3, 4, 5
                """
            ),
            (
                "tally_notices", "notice_id, state",
                "SELECT bucket, notice_id, state, count FROM tally_notices",
                """
                SELECT updated_at / \(bucketMillis), notice_id, state, count(*) FROM deliveries
                WHERE \(settled) GROUP BY 1, 2, 3
                """
            ),
        ]
        for (table, key, summed, counted) in checks {
            for (sql, verb, which) in [
                ("\(summed) EXCEPT \(counted)", "holds", "which the deliveries don't add up to"),
                ("\(counted) EXCEPT \(summed)", "lacks", "which the deliveries add up to"),
            ] {
                if let row = try Row.fetchOne(db, sql: sql + " LIMIT 1") {
                    let values = row.databaseValues.map(\.description).joined(separator: ", ")
                    return
                        "\(table) \(verb) (bucket, \(key), count) = (\(values)), \(which) (changed outside gridcast)"
                }
            }
        }
        return nil
    }
}
