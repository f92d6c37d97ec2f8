import Foundation

/// One value of a ledger row, as the event log records it: exactly the SQLite storage classes the ledger uses.
public enum LedgerValue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// SQL NULL.
    case null
    /// An INTEGER.
    case integer(Int64)
    /// A REAL.
    case real(Double)
    /// A TEXT.
    case text(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let number = try? container.decode(Double.self) {
            self = .real(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .integer(let number): try container.encode(number)
        case .real(let number): try container.encode(number)
        case .text(let string): try container.encode(string)
        }
    }

    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let number): String(number)
        case .real(let number): String(number)
        case .text(let string): "'\(string)'"
        }
    }
}

/// One ledger row after a change, in column-name order: either its full contents (a row added, or changed by a
/// rare kind of event), or — for the claims and outcomes that make up most of the log — only the columns the change
/// set, with the row's key; its other columns keep the values an earlier event recorded.
public struct RowImage: Sendable, Hashable, Codable {
    /// The table the row lives in.
    public var table: String
    /// The column names, sorted by their UTF-8 bytes (the canonical order).
    public private(set) var columns: [String]
    /// The values, in the order of ``columns``.
    public private(set) var values: [LedgerValue]
    /// True when the image holds only the columns a change set (written as `"set"` instead of `"row"`).
    public private(set) var isChange: Bool

    /// Every column's value, by name.
    public var row: [String: LedgerValue] { Dictionary(uniqueKeysWithValues: zip(columns, values)) }

    /// The value of `column`, or nil when the row has no such column.
    public subscript(column: String) -> LedgerValue? {
        columns.firstIndex(of: column).map { values[$0] }
    }

    init(table: String, row: [String: LedgerValue], isChange: Bool = false) {
        self.table = table
        let names = Array(row.keys)
        columns = CanonicalJSON.order(of: names).map { names[$0] }
        values = columns.map { row[$0]! }
        self.isChange = isChange
    }

    /// An image from columns already in canonical order.
    init(table: String, columns: [String], values: [LedgerValue], isChange: Bool = false) {
        self.table = table
        self.columns = columns
        self.values = values
        self.isChange = isChange
    }

    private enum CodingKeys: String, CodingKey { case row, set, table }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let isChange = container.contains(.set)
        self.init(
            table: try container.decode(String.self, forKey: .table),
            row: try container.decode([String: LedgerValue].self, forKey: isChange ? .set : .row),
            isChange: isChange
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(table, forKey: .table)
        try container.encode(row, forKey: isChange ? .set : .row)
    }

    /// This full image with the columns of `change` replaced; nil when `change` names a column the row lacks.
    func applying(_ change: RowImage) -> RowImage? {
        var merged = self
        for (position, column) in change.columns.enumerated() {
            guard let index = merged.columns.firstIndex(of: column) else { return nil }
            merged.values[index] = change.values[position]
        }
        return merged
    }

    /// The row's primary key, as one string (columns joined by NUL), or nil when the image lacks a key column.
    var key: String? {
        guard let columns = LedgerTables.primaryKeys[table] else { return nil }
        var parts: [String] = []
        for column in columns {
            guard let value = self[column] else { return nil }
            parts.append(value.description)
        }
        return parts.joined(separator: "\u{0}")
    }
}

/// What kind of change an event records.
public enum LedgerEventKind: String, Sendable, Codable, CaseIterable {
    /// The rows that existed when the event log was added to an older ledger.
    case adopt
    /// A notice and its planned deliveries.
    case plan
    /// A schedule firing (fired or skipped) with the plans it made.
    case firing
    /// Deliveries claimed for sending.
    case claim
    /// A lease extended before a long send.
    case lease
    /// A part of a multi-part delivery marked as about to be sent.
    case part
    /// A part of a multi-part delivery confirmed.
    case progress
    /// Outcomes of sends (sent, retry, dead, in_doubt) or claims handed back.
    case outcome
    /// Claims whose lease expired or whose owner died.
    case expire
    /// An operator settled an in_doubt delivery.
    case resolve
    /// An operator sent dead deliveries again.
    case retry
    /// An operator ended unsent deliveries.
    case cancel
    /// Deliveries held by quiet hours moved to the end of the new window after a reload changed it.
    case retime
    /// A mass-message task: created, found again after a lost answer, polled, reminded, cancelled or closed.
    case task
}

/// One entry of the hash-chained event log.
public struct LedgerEvent: Sendable, Equatable {
    /// Position in the chain, from 1 with no gaps.
    public var seq: Int64
    /// When the change was made, milliseconds since 1970.
    public var at: Int64
    /// What kind of change.
    public var kind: String
    /// Who made it: a dispatcher's lease owner, an operator, a notice's origin.
    public var actor: String
    /// The rows the change made or changed, as canonical JSON (sorted keys): full rows, or the columns set.
    public var payload: String
    /// The previous event's hash (64 zeros for the first).
    public var prevHash: String
    /// SHA-256 over the previous hash and every other field of this event.
    public var hash: String

    /// The hash a genesis event chains from.
    public static let genesisHash = String(repeating: "0", count: 64)
}

/// Where the chain stood at some moment: a sequence number and the hash of that event.
public struct LedgerCheckpoint: Sendable, Hashable, CustomStringConvertible {
    /// The event's sequence number (0 for an empty log).
    public var seq: Int64
    /// The event's hash.
    public var hash: String

    /// Creates a checkpoint.
    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    /// Parses `SEQ:HASH` as printed by `gridcast ledger verify` and the daemon's checkpoint log line.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let seq = Int64(parts[0]), seq >= 0 else { return nil }
        let hash = parts[1].lowercased()
        guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else { return nil }
        self.init(seq: seq, hash: hash)
    }

    public var description: String { "\(seq):\(hash)" }
}

/// The tables whose every row the event log accounts for, and how their rows are keyed.
enum LedgerTables {
    static let primaryKeys: [String: [String]] = [
        "notices": ["id"],
        "deliveries": ["id"],
        "schedule_firings": ["schedule_id", "fire_at"],
        "posters": ["sha256"],
        "mass_tasks": ["id"],
    ]

    /// The columns a table's row images hold, where not all: a poster's image is its key, format and size, and its
    /// bytes are bound to the key by `ledger verify` recomputing their SHA-256 (docs/ledger.md).
    static let imageColumns: [String: String] = ["posters": "sha256, format, size"]
}
