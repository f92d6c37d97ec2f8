import Foundation
import GRDB
import GRDBSQLite

/// An insert prepared and run through SQLite's C API, inside the caller's GRDB transaction. A plan binds nine values
/// for each of thousands of deliveries, and GRDB's arguments (an array of values, copied and checked on every
/// execution) cost about a third of SQLite's own work there; here each value goes straight to its parameter.
///
/// Prepared per use and finalized on `deinit`, never cached, so no state is shared with GRDB's statement cache.
final class RawInsert {
    private let connection: SQLiteConnection
    private let handle: SQLiteStatement
    private var index: CInt = 0

    /// Prepares `sql` on `db`'s connection.
    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the connection is closed")
        }
        self.connection = connection
        var handle: SQLiteStatement?
        let code = sqlite3_prepare_v2(connection, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
        self.handle = handle
    }

    deinit {
        sqlite3_finalize(handle)
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

    /// Binds the next parameter to text (copied by SQLite).
    private func bind(_ text: String) throws {
        index += 1
        var text = text
        try check(
            text.withUTF8 { bytes in
                // An empty string may have no storage: bind "" rather than a null pointer, which would bind NULL.
                guard let start = UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self) else {
                    return sqlite3_bind_text(handle, index, "", 0, Self.transient)
                }
                return sqlite3_bind_text(handle, index, start, CInt(bytes.count), Self.transient)
            }
        )
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
