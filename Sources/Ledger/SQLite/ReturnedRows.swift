import GRDB
import GRDBSQLite

/// The rows one prepared statement returned (`RETURNING …`), possibly over many executions: written straight into
/// the event log's canonical JSON, plus the few values the caller asked to keep.
///
/// The claim, outcome and plan loops touch every delivery of a fan-out. Going through GRDB rows, Swift strings and
/// ``RowImage`` for every value costs more than the SQL itself; here each value is copied once, from SQLite's
/// buffer into the JSON, in the same form ``EventLog/encode(_:)`` writes.
struct ReturnedRows {
    /// The statement's column names, in result order.
    let columns: [String]
    /// The table the rows belong to.
    let table: String
    /// Result positions of the logged columns, in canonical (sorted by UTF-8 bytes) order.
    private let canonical: [CInt]
    /// `{"row":{` for full rows, `{"set":{` for the columns a change set.
    private let opening: [UInt8]
    /// `"name":` for each column of ``canonical``, with the separating comma after the first.
    private let keys: [[UInt8]]
    /// Result positions of the kept columns.
    private let keptPositions: [CInt]
    /// The kept values, row after row.
    private var kept: [DatabaseValue] = []
    /// The rows' images as JSON objects, comma-separated.
    private(set) var json: [UInt8] = []
    /// The number of rows.
    private(set) var count = 0

    /// An empty set of rows of `table` for what `statement` returns, keeping the values of `keep` for ``value(_:_:)``.
    /// With `changed`, each row is logged as a change of only those columns (which must include the key);
    /// otherwise every column returned is logged as the full row.
    init(of statement: Statement, table: String, keep: [String] = [], changed: [String]? = nil) {
        let names = statement.columnNames
        columns = names
        self.table = table
        opening = Array((changed == nil ? #"{"row":{"# : #"{"set":{"#).utf8)
        let order = names.indices.filter { changed?.contains(names[$0]) ?? true }.sorted {
            names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8)
        }
        assert(order.count == (changed?.count ?? names.count), "every changed column must be returned")
        canonical = order.map { CInt($0) }
        keys = order.enumerated().map { position, index in
            var key: [UInt8] = position > 0 ? [UInt8(ascii: ",")] : []
            EventLog.appendString(names[index], to: &key)
            key.append(UInt8(ascii: ":"))
            return key
        }
        keptPositions = keep.map { name in
            guard let index = names.firstIndex(of: name) else { preconditionFailure("no column \(name)") }
            return CInt(index)
        }
    }

    /// Runs `statement` once with `arguments` and keeps every row it returns; returns how many it returned.
    @discardableResult
    mutating func run(_ statement: Statement, arguments: StatementArguments) throws -> Int {
        assert(statement.columnNames == columns, "statements collected together must return the same columns")
        let before = count
        let cursor = try StepCursor(statement, arguments: arguments)
        let handle = statement.sqliteStatement
        while try cursor.next() != nil {
            if count > 0 { json.append(UInt8(ascii: ",")) }
            json.append(contentsOf: opening)
            for (position, index) in canonical.enumerated() {
                json.append(contentsOf: keys[position])
                appendValue(handle, index)
            }
            json.append(contentsOf: #"},"table":"#.utf8)
            EventLog.appendString(table, to: &json)
            json.append(UInt8(ascii: "}"))
            for index in keptPositions {
                kept.append(DatabaseValue(sqliteStatement: handle, index: index))
            }
            count += 1
        }
        return count - before
    }

    /// The `keep`-th kept value of row `row`, decoded.
    func value<Value: DatabaseValueConvertible>(_ row: Int, _ keep: Int, as type: Value.Type = Value.self) -> Value? {
        Value.fromDatabaseValue(kept[row * keptPositions.count + keep])
    }

    /// One column of the current row as ``LedgerValue`` encodes it.
    private mutating func appendValue(_ handle: SQLiteStatement, _ index: CInt) {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL:
            json.append(contentsOf: "null".utf8)
        case SQLITE_INTEGER:
            EventLog.appendInteger(sqlite3_column_int64(handle, index), to: &json)
        case SQLITE_FLOAT:
            EventLog.appendValue(.real(sqlite3_column_double(handle, index)), to: &json)
        case SQLITE_TEXT:
            // The text first, then its length, as SQLite documents: `_text` may convert the value to UTF-8, and
            // `_bytes` called after it measures what `_text` returned.
            if let text = sqlite3_column_text(handle, index) {
                let length = Int(sqlite3_column_bytes(handle, index))
                EventLog.appendText(UnsafeBufferPointer(start: text, count: length), to: &json)
            } else {
                EventLog.appendString("", to: &json)
            }
        default:
            EventLog.appendValue(LedgerValue(DatabaseValue(sqliteStatement: handle, index: index)), to: &json)
        }
    }
}

/// Steps a statement without building a `Row`: the caller reads the current row from the statement itself.
private final class StepCursor: DatabaseCursor {
    typealias Element = Void
    var _isDone = false
    let _statement: Statement

    init(_ statement: Statement, arguments: StatementArguments) throws {
        _statement = statement
        try statement.setArguments(arguments)  // resets the statement, then binds and checks the arguments
    }

    func _element(sqliteStatement: SQLiteStatement) {}
}
