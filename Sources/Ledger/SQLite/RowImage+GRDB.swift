import Foundation
import GRDB

extension LedgerValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let number): self = .integer(number)
        case .double(let number): self = .real(number)
        case .string(let string): self = .text(string)
        // The ledger stores no blobs; should one appear (an edit), it is recorded by its hex so it can't compare equal.
        case .blob(let data): self = .text("x'" + data.map { String(format: "%02x", $0) }.joined() + "'")
        }
    }
}

extension RowImage {
    init(table: String, row: Row) {
        var builder = RowImageBuilder(table: table)
        self = builder.image(of: row)
    }
}

/// Makes images of many rows of one statement: the canonical column order is worked out once, not per row.
struct RowImageBuilder {
    let table: String
    private var names: [String] = []
    private var order: [Int] = []
    private var columns: [String] = []

    init(table: String) {
        self.table = table
    }

    mutating func image(of row: Row) -> RowImage {
        let rowNames = row.columnNames
        if !rowNames.elementsEqual(names) {
            names = Array(rowNames)
            order = CanonicalJSON.order(of: names)
            columns = order.map { names[$0] }
        }
        return RowImage(table: table, columns: columns, values: order.map { LedgerValue(row[$0] as DatabaseValue) })
    }

    mutating func images(of rows: [Row]) -> [RowImage] {
        rows.map { image(of: $0) }
    }
}

/// Writes the rows one statement returns as images, straight into canonical JSON: the layout is made once.
struct RowWriter {
    let table: String
    /// The columns a change set (with the key), written as a change; nil: every column, as the full row.
    let changed: [String]?
    private var layout: CanonicalJSON.Layout?
    /// Where the layout's columns are in the statement's rows.
    private var positions: [Int] = []

    init(table: String, changed: [String]? = nil) {
        self.table = table
        self.changed = changed
    }

    /// Writes `row`'s image to `json`. Every row must come from the same statement.
    mutating func append(_ row: Row, to json: inout CanonicalJSON) {
        if layout == nil {
            let names = Array(row.columnNames)
            let columns = changed ?? names
            positions = columns.map { name in
                guard let index = names.firstIndex(of: name) else { preconditionFailure("no column \(name)") }
                return index
            }
            layout = CanonicalJSON.Layout(table: table, columns: columns, isChange: changed != nil)
        }
        json.append(layout!, values: positions.map { LedgerValue(row[$0] as DatabaseValue) })
    }
}
