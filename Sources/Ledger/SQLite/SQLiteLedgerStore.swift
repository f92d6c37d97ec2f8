import Foundation
import GRDB
import GridcastCore

/// The embedded ledger: one SQLite file in WAL mode with `synchronous=FULL`, so a commit survives power loss
/// before the call returns. Several gridcast processes may share the file; SQLite's write lock serializes them.
public final class SQLiteLedgerStore: LedgerStore {
    let pool: DatabasePool
    /// The file path.
    public let path: String
    /// The file opened (device and inode): a write checks that `path` still names it (``LedgerFile``).
    let file: LedgerFile?
    /// Signalled after this store's plans, firings and retries commit.
    let wakeupHub = LedgerWakeups()

    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    public convenience init(path: String) throws {
        try self.init(path: path, statementObserver: nil)
    }

    /// Opens the existing ledger at `path` read-only and as it is: no file is created and no migration runs
    /// (`schedule preview`). Every write fails.
    public convenience init(readingOnly path: String) throws {
        try self.init(path: path, statementObserver: nil, readOnly: true)
    }

    /// Opens the ledger, handing the SQL of every statement any of its connections runs to `statementObserver`
    /// (tests check that what the ledger asks of SQLite can use its indexes).
    init(path: String, statementObserver: (@Sendable (String) -> Void)?, readOnly: Bool = false) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !readOnly {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(30)
        configuration.label = "gridcast-ledger"
        if let statementObserver {
            configuration.prepareDatabase { db in
                db.trace(options: .statement) { event in
                    if case .statement(let statement) = event { statementObserver(statement.sql) }
                }
            }
        }
        do {
            pool =
                readOnly
                ? try DatabasePool(path: path, configuration: configuration)
                : try Self.open(path: path, configuration: configuration)
        } catch {
            throw LedgerError.storage("cannot open \(path): \(Self.describe(error))")
        }
        file = LedgerFile(path: path)
    }

    /// Opens the pool and brings the schema up to date. Two processes creating a new ledger at once collide
    /// briefly: switching a new file to WAL can answer "locked" without waiting, and migrations (each its own
    /// transaction) can interleave so that the loser's next one was already applied. Both are settled by looking
    /// again a moment later.
    static func open(path: String, configuration: Configuration) throws -> DatabasePool {
        var attempt = 0
        while true {
            do {
                let pool = try DatabasePool(path: path, configuration: configuration)
                // GRDB switches the writer to WAL with `synchronous = NORMAL` after `prepareDatabase` has run, which
                // syncs only at checkpoints: a commit could be lost on power failure. Every commit must be durable
                // when it returns (a claim before its request leaves), so FULL is set on the writer afterwards.
                // The writer's statement journals stay in memory: a plan's multi-row inserts journal every index
                // page they touch (10,000 groups: 14 MB through 6,856 writes to a temporary file), and a
                // statement's journal is dropped when it ends. Readers (reports) keep file-backed temp storage.
                try pool.writeWithoutTransaction {
                    try $0.execute(sql: "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY")
                }
                try migrator.migrate(pool)
                return pool
            } catch {
                attempt += 1
                if attempt >= 8 { throw error }
                usleep(useconds_t(25_000 * attempt))
            }
        }
    }

    public func wakeups() async -> LedgerWakeups { wakeupHub }

    // MARK: - Transactions

    public func checkWritable() async throws {
        try await write { _ in }
    }

    /// One IMMEDIATE write transaction: the write lock is taken up front, so two processes never deadlock on upgrade.
    /// It first checks that the path still names the file opened: a deleted or replaced ledger is never written.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let file = file
        let path = path
        do {
            return try await pool.writeWithoutTransaction { db in
                if let file, !file.isStillAt(path) { throw LedgerError.fileChanged(path) }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.storage(Self.describe(error))
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.storage(Self.describe(error))
        }
    }

    /// SQLite's message without the SQL text or its arguments (which could hold message content).
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "unknown")"
        }
        return String(describing: type(of: error))
    }
}

extension Date {
    /// Milliseconds since 1970, the ledger's time unit.
    var ledgerMillis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(ledgerMillis: Int64) {
        self.init(timeIntervalSince1970: Double(ledgerMillis) / 1000)
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
