import Foundation
import GRDB

/// The reports' running sums, `tally_groups` and `tally_notices` (docs/ledger.md, "Tallies"): deliveries counted by
/// quarter hour of their latest change, group or notice, and state, kept by triggers as rows change. The open
/// states are not summed; reports count those from the rows.
enum TallyTables {
    /// A bucket's width in milliseconds: every time zone's midnight falls on a quarter hour.
    static let bucketMillis: Int64 = 900_000

    /// The states the triggers leave out (``DeliveryState/queued``), as a condition on `column` that
    /// `deliveries_unsent` answers.
    static func open(column: String) -> String { StateCondition.any(of: DeliveryState.queued, column: column) }

    /// The buckets `days` cover, when each day starts and ends on a bucket's edge; nil otherwise (a zone's offset
    /// of old, like Shanghai's before 1901), for which reports count rows.
    static func buckets(_ days: [Range<Date>]) -> Range<Int64>? {
        func onEdge(_ date: Date) -> Bool { date.ledgerMillis % bucketMillis == 0 }
        guard let first = days.first, let last = days.last,
            days.allSatisfy({ onEdge($0.lowerBound) && onEdge($0.upperBound) })
        else { return nil }
        return first.lowerBound.ledgerMillis / bucketMillis..<last.upperBound.ledgerMillis / bucketMillis
    }

    /// The first sum that is not what the rows add up to, in words; nil when both tables equal the rows. One pass
    /// over the rows per table: each sum is added up with each row counted as minus one, so what is left is a
    /// difference.
    static func problem(_ db: Database) throws -> String? {
        let settled = "NOT \(open(column: "state"))"
        for (table, key) in [
            ("tally_groups", "group_id, group_name, sink, state"), ("tally_notices", "notice_id, state"),
        ] {
            if let row = try Row.fetchOne(
                db, sql: "SELECT bucket, \(key), count FROM \(table) WHERE count <= 0 LIMIT 1")
            {
                return "\(table) holds an empty sum \(described(row, key: key)) (changed outside gridcast)"
            }
            let difference = try Row.fetchOne(
                db,
                sql: """
                    SELECT bucket, \(key), sum(count) FROM (
                        SELECT bucket, \(key), count FROM \(table)
                        UNION ALL
                        SELECT updated_at / \(bucketMillis), \(key), -1 FROM deliveries WHERE \(settled))
                    GROUP BY bucket, \(key) HAVING sum(count) <> 0 LIMIT 1
                    """)
            if let difference {
                let more: Int = difference[difference.count - 1]
                return
                    "\(table) counts \(abs(more)) \(more > 0 ? "more" : "fewer") than the deliveries add up to for "
                    + "\(described(difference, key: key)) (changed outside gridcast)"
            }
        }
        return nil
    }

    /// `(bucket …, group_id …, …)`: the key of a sum.
    private static func described(_ row: Row, key: String) -> String {
        let names = ["bucket"] + key.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return "(" + zip(names, row.databaseValues).map { "\($0) \($1.description)" }.joined(separator: ", ") + ")"
    }
}
