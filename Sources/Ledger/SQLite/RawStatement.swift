import Foundation
import GRDB
import GRDBSQLite

/// A statement run through SQLite's C API, inside the caller's GRDB transaction: each value goes straight to its
/// parameter. A plan binds nine values for each of thousands of deliveries, and a fan-out eleven for each outcome;
/// GRDB's arguments (an array built through a key path, then copied and checked on every execution) cost about a
/// third of SQLite's own work there.
///
/// Either prepared here and finalized on `deinit` (statements made for one use, such as a plan's multi-row insert),
/// or borrowed from GRDB's statement cache (statements run in every transaction). Bindings are cleared after every
/// run and when the borrow ends, so a cached statement goes back to GRDB as it came.
final class RawStatement {
    private let connection: SQLiteConnection
    private let handle: SQLiteStatement
    /// The cached GRDB statement that owns `handle`, kept alive while it is borrowed; nil when prepared here.
    private let cached: Statement?
    private var index: CInt = 0

    /// Prepares `sql` on `db`'s connection, for this statement alone.
    init(_ db: Database, sql: String) throws {
        let connection = try Self.connection(of: db)
        var handle: SQLiteStatement?
        let code = sqlite3_prepare_v2(connection, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
        self.connection = connection
        self.handle = handle
        self.cached = nil
    }

    /// Borrows `sql`'s statement from `db`'s statement cache (preparing it there the first time).
    init(cachedIn db: Database, sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        self.connection = try Self.connection(of: db)
        self.handle = statement.sqliteStatement
        self.cached = statement
    }

    private static func connection(of db: Database) throws -> SQLiteConnection {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the connection is closed")
        }
        return connection
    }

    deinit {
        if cached == nil {
            sqlite3_finalize(handle)
        } else {
            // Also after a bind that threw before any run: the cache gets the statement back without values.
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
    }

    /// Binds `values` to the next parameters, in order.
    func bind(_ values: [DatabaseValue]) throws {
        for value in values {
            switch value.storage {
            case .null:
                index += 1
                try check(sqlite3_bind_null(handle, index))
            case .int64(let number):
                index += 1
                try check(sqlite3_bind_int64(handle, index, number))
            case .double(let number):
                index += 1
                try check(sqlite3_bind_double(handle, index, number))
            case .string(let text):
                try bind(text)
            case .blob(let data):
                index += 1
                // An empty blob may have no storage: a null pointer would bind NULL.
                try check(
                    data.isEmpty
                        ? sqlite3_bind_zeroblob(handle, index, 0)
                        : data.withUnsafeBytes {
                            sqlite3_bind_blob(handle, index, $0.baseAddress, CInt($0.count), Self.transient)
                        })
            }
        }
    }

    /// Binds the next parameter to an integer, or NULL.
    func bind(_ number: Int64?) throws {
        index += 1
        try check(number.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index))
    }

    /// Binds the next parameter to text (copied by SQLite), or NULL.
    func bind(_ text: String?) throws {
        guard let text else {
            index += 1
            return try check(sqlite3_bind_null(handle, index))
        }
        try bind(text)
    }

    /// Binds the next parameter to text (copied by SQLite).
    func bind(_ text: String) throws {
        var text = text
        try text.withUTF8 { try bindText($0, destructor: Self.transient) }
    }

    /// Binds the next parameter to UTF-8 text SQLite reads in place, without a copy (a plan's event payload can be
    /// megabytes): `bytes` must stay valid until ``run()``, which clears the binding.
    func bind(borrowing bytes: UnsafeBufferPointer<UInt8>) throws {
        try bindText(bytes, destructor: nil)
    }

    private func bindText(_ bytes: UnsafeBufferPointer<UInt8>, destructor: sqlite3_destructor_type?) throws {
        index += 1
        // Empty text may have no storage: bind "" rather than a null pointer, which would bind NULL.
        guard let start = UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self) else {
            return try check(sqlite3_bind_text(handle, index, "", 0, Self.transient))
        }
        try check(sqlite3_bind_text(handle, index, start, CInt(bytes.count), destructor))
    }

    /// Runs the statement with the values bound since the last run; returns how many rows it changed.
    @discardableResult
    func run() throws -> Int {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            index = 0
        }
        var code = sqlite3_step(handle)
        while code == SQLITE_ROW { code = sqlite3_step(handle) }
        try check(code == SQLITE_DONE ? SQLITE_OK : code)
        return Int(sqlite3_changes(connection))
    }

    private func check(_ code: CInt) throws {
        guard code == SQLITE_OK else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the value before the call returns (a C macro Swift can't import).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
