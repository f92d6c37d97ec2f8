import Foundation
import GRDB

/// How the SQLite store binds a planned row and checks its table against ``PlannedRow/schema``.
extension PlannedRow {
    /// The arguments of one row of `SQLiteLedgerStore.insertDeliveries`, in its column order.
    var values: [DatabaseValue] {
        [
            id.databaseValue, noticeID.databaseValue, groupID.databaseValue, groupName.databaseValue,
            sink.databaseValue, nextAt.databaseValue, parts.databaseValue, now.databaseValue, now.databaseValue,
            note.databaseValue,
        ]
    }

    /// Whether the ledger's `deliveries` table has exactly the columns and defaults of ``schema``.
    static func matchesSchema(_ db: Database) throws -> Bool {
        let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(deliveries)").map {
            (name: $0["name"] as String, defaultValue: $0["dflt_value"] as String?)
        }
        return columns.elementsEqual(schema) { $0.name == $1.name && $0.defaultValue == $1.defaultValue }
    }
}
