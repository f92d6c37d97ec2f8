import Foundation
import GRDB
import GridcastCore

/// What `gridcast ledger verify` found.
public enum LedgerVerification: Sendable, Equatable {
    /// The chain is whole and replaying it gives exactly the current rows.
    case ok(events: Int64, head: LedgerCheckpoint)
    /// The first discrepancy found, in words that say where.
    case failed(String)
}

/// Verifies an SQLite ledger: its schema, then the event chain replayed (``ChainReplay``) and compared with every row
/// of every ledger table.
struct LedgerVerifier {
    /// The migrations a ledger of this version has applied.
    var migrations: [String]

    func verify(
        _ db: Database, checkpoint: LedgerCheckpoint?, progress: VerifyObserver? = nil
    ) throws -> LedgerVerification {
        // The schema first: a trigger, view, index or table added (or dropped) outside gridcast changes no row the
        // event log describes, and the row checks below read the tables by name.
        if try db.tableExists("grdb_migrations") {
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            guard applied == migrations.sorted() else {
                return .failed("grdb_migrations lists \(applied) but this ledger version has \(migrations.sorted())")
            }
        }
        if let problem = try Self.schemaProblem(db) {
            return .failed(problem)
        }
        return try verifyHistory(db, checkpoint: checkpoint, progress: progress)
    }

    /// The chain, the replay and the comparison with every row, without the schema checks of ``verify``.
    func verifyHistory(
        _ db: Database, checkpoint: LedgerCheckpoint?, progress: VerifyObserver? = nil
    ) throws -> LedgerVerification {
        // The reports' running sums are no event's: they must be what the verified rows add up to.
        if try db.tableExists("tally_groups"), let problem = try TallyTables.problem(db) {
            return .failed(problem)
        }
        if let head = try Self.digest(db, checkpoint: checkpoint, progress: progress), try Self.posterProblem(db) == nil
        {
            return .ok(events: head.seq, head: head)
        }
        // Something disagrees: the replay, which holds every row's image, finds the first discrepancy and says where.
        var replay = ChainReplay(checkpoint: checkpoint)
        let events = try Row.fetchCursor(
            db, sql: "SELECT seq, at, kind, actor, payload, prev_hash, hash FROM events ORDER BY seq")
        while let row = try events.next() {
            let event = LedgerEvent(
                seq: row["seq"], at: row["at"], kind: row["kind"], actor: row["actor"], payload: row["payload"],
                prevHash: row["prev_hash"], hash: row["hash"]
            )
            if let problem = replay.add(event) { return .failed(problem) }
        }
        if let problem = replay.finish() { return .failed(problem) }
        for table in LedgerTables.primaryKeys.keys.sorted() {
            var comparison = replay.comparison(of: table)
            let columns = LedgerTables.imageColumns[table] ?? "*"
            let rows = try Row.fetchCursor(db, sql: "SELECT \(columns) FROM \(table) ORDER BY rowid")
            var builder = RowImageBuilder(table: table)
            while let row = try rows.next() {
                if let problem = comparison.check(builder.image(of: row)) { return .failed(problem) }
            }
            if let problem = comparison.finish() { return .failed(problem) }
        }
        if let problem = try Self.posterProblem(db) {
            return .failed(problem)
        }
        return .ok(events: replay.count, head: replay.head)
    }

    /// The head when ``ChainDigest`` finds the chain whole and its replay equal to the rows; nil otherwise.
    static func digest(
        _ db: Database, checkpoint: LedgerCheckpoint?, progress: VerifyObserver? = nil
    ) throws -> LedgerCheckpoint? {
        var rows = 0
        for table in LedgerTables.primaryKeys.keys {
            rows += try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0
        }
        let events = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
        var digest = ChainDigest(checkpoint: checkpoint, rows: rows)
        var report = VerifyProgress.Reporter(progress, events: events, rows: rows)
        let cursor = try Row.fetchCursor(
            db, sql: "SELECT seq, at, kind, actor, prev_hash, hash, payload FROM events ORDER BY seq DESC")
        while let row = try cursor.next() {
            // The payload read in place: a plan's can be tens of megabytes.
            try row.withUnsafeData(atIndex: 6) { data in
                (data ?? Data()).withUnsafeBytes { raw in
                    digest.add(
                        seq: row[0], at: row[1], kind: row[2], actor: row[3], prevHash: row[4], hash: row[5],
                        payload: raw.bindMemory(to: UInt8.self))
                }
            }
            guard digest.consistent else { return nil }
            report.event()
        }
        for table in LedgerTables.primaryKeys.keys.sorted() {
            let columns = LedgerTables.imageColumns[table] ?? "*"
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(columns) FROM \(table)")
            var builder = RowImageBuilder(table: table)
            while let row = try cursor.next() {
                digest.add(row: builder.image(of: row))
                report.row()
            }
        }
        report.finish()
        return digest.finish()
    }

    /// The first stored poster whose bytes are not what its row says (``ChainReplay/posterProblem``).
    static func posterProblem(_ db: Database) throws -> String? {
        guard try db.tableExists("posters") else { return nil }
        let rows = try Row.fetchCursor(db, sql: "SELECT sha256, format, size, bytes FROM posters ORDER BY rowid")
        while let row = try rows.next() {
            if let problem = ChainReplay.posterProblem(
                sha256: row["sha256"], format: row["format"], size: row["size"],
                bytes: [UInt8]((row["bytes"] as Data?) ?? Data()))
            {
                return problem
            }
        }
        return nil
    }

    /// The schema objects of `db` — tables, indexes, triggers, views — as `"type name"` and their SQL with runs of
    /// whitespace made one space. SQLite's own objects (`sqlite_…`, e.g. the automatic index of a primary key, which
    /// its table's SQL already implies) are left out.
    static func schema(_ db: Database) throws -> [String: String] {
        var objects: [String: String] = [:]
        let rows = try Row.fetchAll(
            db, sql: "SELECT type, name, sql FROM sqlite_master WHERE substr(name, 1, 7) != 'sqlite_'")
        for row in rows {
            let type: String = row["type"]
            let name: String = row["name"]
            let sql: String? = row["sql"]
            objects["\(type) \(name)"] = (sql ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        return objects
    }

    /// The schema of a ledger of this version: what the migrations make of an empty database.
    static func expectedSchema() throws -> [String: String] {
        let queue = try DatabaseQueue()
        try SQLiteLedgerStore.migrator.migrate(queue)
        return try queue.read(schema)
    }

    /// The first difference between `db`'s schema and a ledger's, or nil.
    static func schemaProblem(_ db: Database) throws -> String? {
        let found = try schema(db)
        let expected = try expectedSchema()
        if let added = found.keys.sorted().first(where: { expected[$0] == nil }) {
            return
                "schema: \(added) is not part of a gridcast ledger (added outside gridcast): \(ChainReplay.clip(found[added] ?? ""))"
        }
        if let missing = expected.keys.sorted().first(where: { found[$0] == nil }) {
            return "schema: \(missing) is missing (dropped outside gridcast)"
        }
        if let changed = expected.keys.sorted().first(where: { found[$0] != expected[$0] }) {
            return "schema: \(changed) is not defined as gridcast defines it: \(ChainReplay.clip(found[changed] ?? ""))"
        }
        return nil
    }

    /// Whether `error` says the file could not be opened or read at all — permissions, a read-only directory
    /// (SQLite can't add the `-shm` file a WAL ledger needs), a lock, I/O — rather than that it holds something
    /// other than a ledger.
    static func isAccessProblem(_ error: DatabaseError) -> Bool {
        [
            ResultCode.SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH, .SQLITE_BUSY, .SQLITE_LOCKED,
            .SQLITE_IOERR, .SQLITE_NOMEM, .SQLITE_NOLFS,
        ].contains(error.resultCode.primaryResultCode)
    }
}
