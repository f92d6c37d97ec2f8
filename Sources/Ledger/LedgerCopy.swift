import Foundation
import GridcastCore

/// Copies a whole ledger, event chain included, into an empty ledger of either store (`gridcast ledger copy`).
///
/// Rows and events move verbatim: no event is written for the copy itself, so the chain stays byte-identical and a
/// checkpoint taken on the source still verifies on the copy. The source is read from one snapshot, page by page
/// (never the whole ledger in memory); the target is written in one transaction, so it holds all of the copy or
/// nothing. Deliveries keep their planning order (SQLite's rowid, PostgreSQL's `pos`) and customer-group tasks
/// their ids.
public enum LedgerCopy {
    /// What a copy moved.
    public struct Summary: Sendable, Equatable {
        /// Events copied.
        public var events: Int64
        /// Rows copied, by table.
        public var rows: [String: Int64]
        /// The last event copied (the source's head when the copy was made).
        public var head: LedgerCheckpoint

        /// Deliveries copied.
        public var deliveries: Int64 { rows["deliveries"] ?? 0 }
    }

    /// Copies the ledger `source` names into the one `target` names, which must be empty (created when absent).
    /// The source must exist at this gridcast's schema version; it is opened read-only where the store allows.
    /// - Throws: ``LedgerError`` when either can't be opened, the source is not at the current schema, the target
    ///   holds any row or event (it is left as it was), or reading or writing fails (the target is left as it was).
    public static func copy(from source: LedgerSettings, to target: LedgerSettings) async throws -> Summary {
        try await copy(from: source, to: target, pages: .standard)
    }

    /// How many rows, posters and events a page read from the source holds.
    struct PageSizes: Sendable {
        var rows: Int
        /// Posters are images of up to megabytes each.
        var posters: Int
        /// A plan's event can hold megabytes of row images.
        var events: Int

        static let standard = PageSizes(rows: 1000, posters: 16, events: 100)
    }

    /// ``copy(from:to:)`` reading pages of `pages`.
    static func copy(from source: LedgerSettings, to target: LedgerSettings, pages: PageSizes) async throws -> Summary {
        let reader = try await openSource(source)
        let writer = try await openTarget(target)
        return try await reader.reading { source in
            try await writer.writing { target in try await copy(source, into: target, pages: pages) }
        }
    }

    /// The copy inside the source's snapshot and the target's transaction.
    static func copy(
        _ source: any LedgerCopyReader, into target: any LedgerCopyWriter, pages: PageSizes
    ) async throws -> Summary {
        if let table = try await target.nonEmptyTable() {
            throw LedgerError.invalid(
                "the target ledger is not empty (\(table) holds rows): copy only into a new, empty ledger")
        }
        var rows: [String: Int64] = [:]
        for table in CopyTable.all {
            let limit = table.hasBytes ? pages.posters : pages.rows
            var after: [LedgerValue]?
            while true {
                let page = try await source.page(of: table, after: after, limit: limit)
                guard !page.rows.isEmpty else { break }
                try await target.insert(page.rows, into: table)
                rows[table.name, default: 0] += Int64(page.rows.count)
                after = page.last
                if page.rows.count < limit { break }
            }
        }
        var head = LedgerCheckpoint(seq: 0, hash: LedgerEvent.genesisHash)
        while true {
            let events = try await source.events(after: head.seq, limit: pages.events)
            guard let last = events.last else { break }
            try await target.insert(events)
            head = LedgerCheckpoint(seq: last.seq, hash: last.hash)
            if events.count < pages.events { break }
        }
        try await target.finish(head: head)
        return Summary(events: head.seq, rows: rows, head: head)
    }

    static func openSource(_ settings: LedgerSettings) async throws -> any LedgerCopySource {
        if let postgres = settings.postgres {
            return try await PostgresLedgerStore.open(
                postgres, instanceTimeout: settings.instanceTimeout, creating: false)
        }
        return try SQLiteLedgerStore.copySource(path: settings.path)
    }

    static func openTarget(_ settings: LedgerSettings) async throws -> any LedgerCopyTarget {
        if let postgres = settings.postgres {
            // A schema is made where there is none; one that exists is not migrated (a ledger of an older version,
            // refused then, is left as it was).
            let exists = try await PostgresLedgerStore.schemaVersion(at: postgres) != nil
            return try await PostgresLedgerStore.open(
                postgres, instanceTimeout: settings.instanceTimeout, creating: !exists)
        }
        return try SQLiteLedgerStore.copyTarget(path: settings.path)
    }
}

/// A ledger table as a copy moves it: the columns both stores hold, in this order, and the key its pages follow.
/// Tables are listed in an order that satisfies their foreign keys.
struct CopyTable: Sendable {
    /// The table's name.
    let name: String
    /// Its columns, as both stores name them (not the planning order, not a poster's bytes).
    let columns: [String]
    /// The columns pages are read in the order of; nil for the store's planning order of deliveries.
    let key: [String]?
    /// Whether its rows carry bytes (a poster's image) besides ``columns``.
    let hasBytes: Bool

    static let all: [CopyTable] = [
        CopyTable(name: "posters", columns: ["sha256", "format", "size"], key: ["sha256"], hasBytes: true),
        CopyTable(
            name: "notices",
            columns: [
                "id", "title", "text", "urgent", "content_hash", "selector", "origin", "created_at", "poster_sha256",
                "image_url", "link_url", "link_title", "link_description", "link_picurl",
            ],
            key: ["id"], hasBytes: false),
        CopyTable(
            name: "mass_tasks",
            columns: [
                "id", "notice_id", "app", "owner", "batch", "state", "msgid", "claim_seq", "lease_owner",
                "lease_until", "created_at", "deadline_at", "next_at", "reminders", "cancelled_at", "last_error",
                "updated_at",
            ],
            key: ["id"], hasBytes: false),
        CopyTable(name: "deliveries", columns: PlannedRow.schema.map(\.name), key: nil, hasBytes: false),
        CopyTable(
            name: "schedule_firings",
            columns: ["schedule_id", "fire_at", "outcome", "note", "notices", "recorded_at"],
            key: ["schedule_id", "fire_at"], hasBytes: false),
    ]

    /// Every table a copy checks is empty in the target: the ledger's tables and the event log.
    static var checkedEmpty: [String] { all.map(\.name) + ["events"] }
}

/// One row as a copy moves it: its values in the order of ``CopyTable/columns``, and a poster's bytes.
struct CopyRow: Sendable {
    var values: [LedgerValue]
    var bytes: Data?
}

/// One page of a table's rows, and the key of its last row (where the next page starts).
struct CopyPage: Sendable {
    var rows: [CopyRow]
    var last: [LedgerValue]?
}

/// A ledger a copy reads from: ``reading(_:)`` holds one consistent snapshot while the copy runs.
protocol LedgerCopySource: Sendable {
    func reading<T: Sendable>(_ body: @escaping @Sendable (any LedgerCopyReader) async throws -> T) async throws -> T
}

/// The source's snapshot, read a page at a time.
protocol LedgerCopyReader: Sendable {
    /// Up to `limit` rows of `table` after the row whose key is `after` (from the first when nil), in key order.
    func page(of table: CopyTable, after: [LedgerValue]?, limit: Int) async throws -> CopyPage
    /// Up to `limit` events after event `seq`, in order, exactly as stored.
    func events(after seq: Int64, limit: Int) async throws -> [LedgerEvent]
}

/// A ledger a copy writes to: ``writing(_:)`` runs the copy in one transaction, committed when it returns.
protocol LedgerCopyTarget: Sendable {
    func writing<T: Sendable>(_ body: @escaping @Sendable (any LedgerCopyWriter) async throws -> T) async throws -> T
}

/// The target's transaction.
protocol LedgerCopyWriter: Sendable {
    /// The first table of ``CopyTable/checkedEmpty`` holding a row, or nil when the ledger is empty.
    func nonEmptyTable() async throws -> String?
    /// Inserts `rows` into `table`, in order (deliveries get their planning order from it).
    func insert(_ rows: [CopyRow], into table: CopyTable) async throws
    /// Inserts `events` exactly as given.
    func insert(_ events: [LedgerEvent]) async throws
    /// After the last row and event: whatever the store keeps beside them (the head, id sequences).
    func finish(head: LedgerCheckpoint) async throws
}
