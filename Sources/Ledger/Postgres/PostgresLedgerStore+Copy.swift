import Foundation
import PostgresNIO

/// The PostgreSQL store's side of ``LedgerCopy``: the source read in one read-only REPEATABLE READ snapshot, the
/// target written in one transaction holding the event head's lock (no instance appends meanwhile).
extension PostgresLedgerStore: LedgerCopySource, LedgerCopyTarget {
    /// How long a copy may take: a large ledger is many pages, and the store's per-call deadline is for calls.
    static let copyDeadline = Duration.seconds(24 * 3600)

    func reading<T: Sendable>(_ body: @escaping @Sendable (any LedgerCopyReader) async throws -> T) async throws -> T {
        try await write(within: Self.copyDeadline) { tx in
            try await tx.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return try await body(PostgresCopyReader(tx: tx))
        }
    }

    func writing<T: Sendable>(_ body: @escaping @Sendable (any LedgerCopyWriter) async throws -> T) async throws -> T {
        try await write(within: Self.copyDeadline) { tx in
            try await tx.rows("SELECT seq FROM event_head WHERE id = 1 FOR UPDATE")
            return try await body(PostgresCopyWriter(tx: tx))
        }
    }
}

/// Pages of the snapshot, by key (deliveries by `pos`, their planning order).
struct PostgresCopyReader: LedgerCopyReader {
    let tx: PostgresTransaction

    func page(of table: CopyTable, after: [LedgerValue]?, limit: Int) async throws -> CopyPage {
        let key = table.key ?? ["pos"]
        let selected = key + table.columns + (table.hasBytes ? ["bytes"] : [])
        var sql = "SELECT \(selected.joined(separator: ", ")) FROM \(table.name)"
        var binds = PostgresBindings()
        if let after {
            let marks = (1...key.count).map { "$\($0)" }.joined(separator: ", ")
            sql += " WHERE (\(key.joined(separator: ", "))) > (\(marks))"
            for value in after { value.bind(to: &binds) }
        }
        sql += " ORDER BY \(key.joined(separator: ", ")) LIMIT \(limit)"
        var page = CopyPage(rows: [], last: nil)
        for row in try await tx.rows(PostgresQuery(unsafeSQL: sql, binds: binds)) {
            let cells = Array(row)
            let values = try cells[0..<(key.count + table.columns.count)].map { try LedgerValue($0) }
            let bytes = table.hasBytes ? try cells[selected.count - 1].decode(Data.self) : nil
            page.rows.append(CopyRow(values: Array(values[key.count...]), bytes: bytes))
            page.last = Array(values[0..<key.count])
        }
        return page
    }

    func events(after seq: Int64, limit: Int) async throws -> [LedgerEvent] {
        let rows = try await tx.rows(
            """
            SELECT seq, at, kind, actor, payload, prev_hash, hash FROM events
            WHERE seq > \(seq) ORDER BY seq LIMIT \(Int64(limit))
            """)
        return try rows.map { row in
            let (seq, at, kind, actor, payload, prevHash, hash) = try row.decode(
                (Int64, Int64, String, String, String, String, String).self)
            return LedgerEvent(
                seq: seq, at: at, kind: kind, actor: actor, payload: payload, prevHash: prevHash, hash: hash)
        }
    }
}

/// Inserts into the target's transaction: `pos` follows the insertion order, which is the planning order; tasks
/// keep their ids, and the id sequence and the event head are set after the last row.
struct PostgresCopyWriter: LedgerCopyWriter {
    let tx: PostgresTransaction

    func nonEmptyTable() async throws -> String? {
        for table in CopyTable.checkedEmpty {
            let query = PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))")
            if try await tx.value(query, as: Bool.self) == true { return table }
        }
        return nil
    }

    func insert(_ rows: [CopyRow], into table: CopyTable) async throws {
        guard !rows.isEmpty else { return }
        let columns = table.columns + (table.hasBytes ? ["bytes"] : [])
        var binds = PostgresBindings(capacity: rows.count * columns.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            let first = index * columns.count
            tuples.append("(" + (1...columns.count).map { "$\(first + $0)" }.joined(separator: ", ") + ")")
            for value in row.values { value.bind(to: &binds) }
            if table.hasBytes { try binds.append(row.bytes ?? Data()) }
        }
        try await tx.rows(
            PostgresQuery(
                unsafeSQL: "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES "
                    + tuples.joined(separator: ", "),
                binds: binds))
    }

    func insert(_ events: [LedgerEvent]) async throws {
        guard !events.isEmpty else { return }
        var binds = PostgresBindings(capacity: events.count * 7)
        var tuples: [String] = []
        for (index, event) in events.enumerated() {
            let first = index * 7
            tuples.append("(" + (1...7).map { "$\(first + $0)" }.joined(separator: ", ") + ")")
            binds.append(event.seq)
            binds.append(event.at)
            binds.append(event.kind)
            binds.append(event.actor)
            binds.append(event.payload)
            binds.append(event.prevHash)
            binds.append(event.hash)
        }
        try await tx.rows(
            PostgresQuery(
                unsafeSQL: "INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash) VALUES "
                    + tuples.joined(separator: ", "),
                binds: binds))
    }

    func finish(head: LedgerCheckpoint) async throws {
        // Tasks came with their ids: new ones continue after the largest.
        try await tx.rows(
            """
            SELECT setval(pg_get_serial_sequence('mass_tasks', 'id'), max(id)) FROM mass_tasks
            HAVING max(id) IS NOT NULL
            """)
        try await tx.rows("UPDATE event_head SET seq = \(head.seq), hash = \(head.hash) WHERE id = 1")
    }
}

extension LedgerValue {
    /// Appends the value as a parameter: integers as `bigint`, text as `text`, NULL untyped (the column's type).
    fileprivate func bind(to binds: inout PostgresBindings) {
        switch self {
        case .null: binds.appendNull()
        case .integer(let number): binds.append(number)
        case .real(let number): binds.append(number)
        case .text(let text): binds.append(text)
        }
    }
}
