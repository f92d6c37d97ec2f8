import Foundation
import PostgresNIO

extension LedgerValue {
    /// A cell's value as the event log records it: the PostgreSQL store's columns are `bigint` and `text`, as the
    /// SQLite store's are INTEGER and TEXT, so both log the same images. Bytes (a poster's, never in an image unless
    /// edited in) are recorded by their hex, as SQLite's blobs are.
    init(_ cell: PostgresCell) throws {
        guard cell.bytes != nil else {
            self = .null
            return
        }
        switch cell.dataType {
        case .int8, .int4, .int2: self = .integer(try cell.decode(Int64.self))
        case .float8, .float4, .numeric: self = .real(try cell.decode(Double.self))
        case .bytea:
            let bytes = [UInt8](try cell.decode(Data.self))
            self = .text("x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'")
        default: self = .text(try cell.decode(String.self))
        }
    }
}

/// Writes rows a statement returned as event images, the layout worked out once per statement's columns.
struct PostgresImageWriter {
    let table: String
    /// The columns a change set (with the key), written as a change; nil: every column returned, as the full row.
    let changed: [String]?
    private var layout: CanonicalJSON.Layout?
    private var positions: [Int] = []

    init(table: String, changed: [String]? = nil) {
        self.table = table
        self.changed = changed
    }

    /// Writes `row`'s image to `json`. Every row must come from the same statement.
    mutating func append(_ row: PostgresRow, to json: inout CanonicalJSON) throws {
        let cells = Array(row)
        if layout == nil {
            let names = cells.map(\.columnName)
            let columns = changed ?? names
            positions = columns.map { name in
                guard let index = names.firstIndex(of: name) else { preconditionFailure("no column \(name)") }
                return index
            }
            layout = CanonicalJSON.Layout(table: table, columns: columns, isChange: changed != nil)
        }
        json.append(layout!, values: try positions.map { try LedgerValue(cells[$0]) })
    }

    /// The full image of one row: every column it holds but `pos`, the planning order, which no image records.
    static func image(table: String, of row: PostgresRow) throws -> RowImage {
        var names: [String: LedgerValue] = [:]
        for cell in row where cell.columnName != "pos" { names[cell.columnName] = try LedgerValue(cell) }
        return RowImage(table: table, row: names)
    }
}
