import Foundation
import GRDB
import GridcastCore

/// The SQLite store's side of ``LedgerCopy``: a ledger file read from one snapshot, or written in one transaction.
extension SQLiteLedgerStore {
    /// The existing ledger at `path` as a copy's source, opened read-only (no migration runs; its schema must be
    /// this version's, which ``CopyFile/reading(_:)`` checks).
    static func copySource(path: String) throws -> CopyFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError.invalid("no ledger at \(path) (gridcast serve or gridcast send creates it)")
        }
        return try CopyFile(path: path, readOnly: true)
    }

    /// The ledger at `path` as a copy's target: created, or brought up to this version's schema, when empty. An
    /// existing file holding rows is refused before anything changes it (a migration would log events in it).
    static func copyTarget(path: String) throws -> CopyFile {
        if FileManager.default.fileExists(atPath: path) {
            let probe = try CopyFile(path: path, readOnly: true)
            if let table = try probe.nonEmptyTableNow() {
                throw LedgerError.invalid(
                    "the target ledger is not empty (\(table) holds rows): copy only into a new, empty ledger")
            }
        }
        _ = try SQLiteLedgerStore(path: path)
        return try CopyFile(path: path, readOnly: false)
    }

    /// One connection to a ledger file whose transaction spans a whole copy, across the copy's suspensions (so
    /// GRDB's check for transactions left open is off for it).
    struct CopyFile: LedgerCopySource, LedgerCopyTarget {
        let queue: DatabaseQueue
        let path: String

        init(path: String, readOnly: Bool) throws {
            self.path = path
            var configuration = Configuration()
            configuration.readonly = readOnly
            configuration.allowsUnsafeTransactions = true
            configuration.busyMode = .timeout(30)
            configuration.label = "gridcast-ledger-copy"
            do {
                queue = try DatabaseQueue(path: path, configuration: configuration)
            } catch {
                throw LedgerError.storage("cannot open \(path): \(SQLiteLedgerStore.describe(error))")
            }
        }

        /// Runs `body` on the connection; errors become ``LedgerError``.
        func access<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
            do {
                return try await queue.writeWithoutTransaction(body)
            } catch let error as LedgerError {
                throw error
            } catch {
                throw LedgerError.storage("\(path): \(SQLiteLedgerStore.describe(error))")
            }
        }

        /// The first table of ``CopyTable/checkedEmpty`` that exists and holds a row, read outside a copy.
        func nonEmptyTableNow() throws -> String? {
            do {
                return try queue.read(Self.nonEmptyTable)
            } catch {
                throw LedgerError.storage("\(path): \(SQLiteLedgerStore.describe(error))")
            }
        }

        static func nonEmptyTable(_ db: Database) throws -> String? {
            for table in CopyTable.checkedEmpty where try db.tableExists(table) {
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table))") == true { return table }
            }
            return nil
        }

        func reading<T: Sendable>(
            _ body: @escaping @Sendable (any LedgerCopyReader) async throws -> T
        ) async throws -> T {
            let path = path
            try await access { db in
                try db.execute(sql: "BEGIN DEFERRED")
                // The first read starts the snapshot the whole copy reads.
                let applied = try SQLiteLedgerStore.migrator.appliedIdentifiers(db)
                let expected = Set(SQLiteLedgerStore.migrator.migrations)
                guard applied == expected else {
                    try db.execute(sql: "ROLLBACK")
                    throw LedgerError.invalid(
                        "the ledger at \(path) is not at this gridcast's schema (it has \(applied.count) of "
                            + "\(expected.count) migrations): run gridcast serve or send of this version once")
                }
            }
            return try await finishing { try await body(Reader(file: self)) }
        }

        func writing<T: Sendable>(
            _ body: @escaping @Sendable (any LedgerCopyWriter) async throws -> T
        ) async throws -> T {
            try await access { db in
                // Every commit durable when it returns, as the store's own writer.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "BEGIN IMMEDIATE")
            }
            return try await finishing { try await body(Writer(file: self)) }
        }

        /// Commits the transaction `work` ran in, or rolls it back when it failed.
        private func finishing<T: Sendable>(_ work: () async throws -> T) async throws -> T {
            let result: T
            do {
                result = try await work()
            } catch {
                _ = try? await access { db in if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") } }
                throw error
            }
            try await access { db in try db.execute(sql: "COMMIT") }
            return result
        }
    }

    /// Pages of a snapshot, by key (deliveries by rowid, their planning order).
    struct Reader: LedgerCopyReader {
        let file: CopyFile

        func page(of table: CopyTable, after: [LedgerValue]?, limit: Int) async throws -> CopyPage {
            let key = table.key ?? ["rowid"]
            let selected = key + table.columns + (table.hasBytes ? ["bytes"] : [])
            var sql = "SELECT \(selected.joined(separator: ", ")) FROM \(table.name)"
            var arguments = StatementArguments()
            if let after {
                let marks = Array(repeating: "?", count: key.count).joined(separator: ", ")
                sql += " WHERE (\(key.joined(separator: ", "))) > (\(marks))"
                arguments = StatementArguments(after.map(\.databaseValue))
            }
            sql += " ORDER BY \(key.joined(separator: ", ")) LIMIT \(limit)"
            let statement = sql
            let bound = arguments
            return try await file.access { db in
                var page = CopyPage(rows: [], last: nil)
                let rows = try Row.fetchCursor(db, sql: statement, arguments: bound)
                while let row = try rows.next() {
                    let values = (0..<selected.count).map { LedgerValue(row[$0] as DatabaseValue) }
                    let bytes: Data? = table.hasBytes ? row[selected.count - 1] : nil
                    page.rows.append(
                        CopyRow(values: Array(values[key.count..<(key.count + table.columns.count)]), bytes: bytes))
                    page.last = Array(values[0..<key.count])
                }
                return page
            }
        }

        func events(after seq: Int64, limit: Int) async throws -> [LedgerEvent] {
            try await file.access { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT seq, at, kind, actor, payload, prev_hash, hash FROM events
                        WHERE seq > ? ORDER BY seq LIMIT ?
                        """,
                    arguments: [seq, limit]
                ).map { row in
                    LedgerEvent(
                        seq: row["seq"], at: row["at"], kind: row["kind"], actor: row["actor"],
                        payload: row["payload"], prevHash: row["prev_hash"], hash: row["hash"])
                }
            }
        }
    }

    /// Inserts into the target's transaction; rowids follow the insertion order, which is the planning order.
    struct Writer: LedgerCopyWriter {
        let file: CopyFile

        func nonEmptyTable() async throws -> String? {
            try await file.access(CopyFile.nonEmptyTable)
        }

        func insert(_ rows: [CopyRow], into table: CopyTable) async throws {
            let columns = table.columns + (table.hasBytes ? ["bytes"] : [])
            let sql =
                "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES ("
                + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
            try await file.access { db in
                let statement = try db.cachedStatement(sql: sql)
                for row in rows {
                    var values = row.values.map(\.databaseValue)
                    if table.hasBytes { values.append(row.bytes?.databaseValue ?? .null) }
                    statement.setUncheckedArguments(StatementArguments(values))
                    try statement.execute()
                }
            }
        }

        func insert(_ events: [LedgerEvent]) async throws {
            try await file.access { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """)
                for event in events {
                    statement.setUncheckedArguments([
                        event.seq, event.at, event.kind, event.actor, event.payload, event.prevHash, event.hash,
                    ])
                    try statement.execute()
                }
            }
        }

        func finish(head: LedgerCheckpoint) async throws {
            // The head is the last row of `events`, and a task's next id follows the largest: nothing to set.
        }
    }
}

extension LedgerValue {
    /// The value as SQLite binds it.
    fileprivate var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        }
    }
}
