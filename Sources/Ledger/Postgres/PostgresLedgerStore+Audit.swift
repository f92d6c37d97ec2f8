import Foundation
import PostgresNIO

/// The event chain's head and its verification (``LedgerAudit``): the same replay and comparison as on SQLite
/// (``ChainReplay``), reading events and rows as they stream from one snapshot.
extension PostgresLedgerStore {
    public func head() async throws -> LedgerCheckpoint {
        try await read { tx in
            guard let row = try await tx.row("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") else {
                return LedgerCheckpoint(seq: 0, hash: LedgerEvent.genesisHash)
            }
            let (seq, hash) = try row.decode((Int64, String).self)
            return LedgerCheckpoint(seq: seq, hash: hash)
        }
    }

    public func verify(checkpoint: LedgerCheckpoint?, progress: VerifyObserver?) async throws -> LedgerVerification {
        try await snapshot(within: Self.auditDeadline) { tx in
            try await Self.verify(tx, checkpoint: checkpoint, progress: progress)
        }
    }

    /// The fast check alone (``ChainDigest``): the head when it finds the ledger consistent, nil when `verify` goes
    /// on to the replay.
    func digestHead(checkpoint: LedgerCheckpoint?) async throws -> LedgerCheckpoint? {
        try await snapshot(within: Self.auditDeadline) { tx in try await Self.digest(tx, checkpoint: checkpoint) }
    }

    /// A verification reads the whole ledger in one snapshot (instances writing meanwhile don't make rows and
    /// events disagree), so its deadline is hours, not the store's seconds.
    private static let auditDeadline = Duration.seconds(6 * 3600)

    /// The verification, inside the snapshot.
    private static func verify(
        _ tx: PostgresTransaction, checkpoint: LedgerCheckpoint?, progress: VerifyObserver?
    ) async throws -> LedgerVerification {
        if let problem = try await Self.schemaProblem(tx) { return .failed(problem) }
        if let head = try await digest(tx, checkpoint: checkpoint, progress: progress),
            try await posterProblem(tx) == nil
        {
            return .ok(events: head.seq, head: head)
        }
        // Something disagrees: the replay, which holds every row's image, finds the first discrepancy and says where.
        var replay = ChainReplay(checkpoint: checkpoint)
        let events = try await tx.connection.query(
            "SELECT seq, at, kind, actor, payload, prev_hash, hash FROM events ORDER BY seq", logger: tx.logger)
        for try await (seq, at, kind, actor, payload, prevHash, hash) in events.decode(
            (Int64, Int64, String, String, String, String, String).self)
        {
            let event = LedgerEvent(
                seq: seq, at: at, kind: kind, actor: actor, payload: payload, prevHash: prevHash, hash: hash)
            if let problem = replay.add(event) { return .failed(problem) }
        }
        if let problem = replay.finish() { return .failed(problem) }
        let head = try await tx.row("SELECT seq, hash FROM event_head WHERE id = 1")
        guard let head, try head.decode((Int64, String).self) == (replay.head.seq, replay.head.hash) else {
            return .failed("event_head does not name the last event (\(replay.head)): edited outside gridcast")
        }
        for table in LedgerTables.primaryKeys.keys.sorted() {
            var comparison = replay.comparison(of: table)
            let columns = PostgresSchema.imageColumns[table] ?? "*"
            let rows = try await tx.connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(columns) FROM \(table) ORDER BY \(PostgresSchema.order[table] ?? "1")"),
                logger: tx.logger)
            for try await row in rows {
                if let problem = comparison.check(try PostgresImageWriter.image(table: table, of: row)) {
                    return .failed(problem)
                }
            }
            if let problem = comparison.finish() { return .failed(problem) }
        }
        if let problem = try await posterProblem(tx) { return .failed(problem) }
        return .ok(events: replay.count, head: replay.head)
    }

    /// The head when ``ChainDigest`` finds the chain whole, `event_head` naming its last event, and the replay equal
    /// to the rows; nil otherwise.
    private static func digest(
        _ tx: PostgresTransaction, checkpoint: LedgerCheckpoint?, progress: VerifyObserver? = nil
    ) async throws -> LedgerCheckpoint? {
        var rows = 0
        for table in LedgerTables.primaryKeys.keys {
            rows += try await tx.row(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))?.decode(Int.self) ?? 0
        }
        let count = try await tx.row("SELECT coalesce(max(seq), 0) FROM events")?.decode(Int64.self) ?? 0
        var digest = ChainDigest(checkpoint: checkpoint, rows: rows)
        var report = VerifyProgress.Reporter(progress, events: count, rows: rows)
        let events = try await tx.connection.query(
            "SELECT seq, at, kind, actor, payload, prev_hash, hash FROM events ORDER BY seq DESC", logger: tx.logger)
        for try await (seq, at, kind, actor, payload, prevHash, hash) in events.decode(
            (Int64, Int64, String, String, String, String, String).self)
        {
            var payload = payload
            payload.withUTF8 {
                digest.add(seq: seq, at: at, kind: kind, actor: actor, prevHash: prevHash, hash: hash, payload: $0)
            }
            report.event()
        }
        let head = try await tx.row("SELECT seq, hash FROM event_head WHERE id = 1")
        guard let head, try head.decode((Int64, String).self) == (digest.head.seq, digest.head.hash) else { return nil }
        for table in LedgerTables.primaryKeys.keys.sorted() {
            let columns = PostgresSchema.imageColumns[table] ?? "*"
            let rows = try await tx.connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(columns) FROM \(table)"), logger: tx.logger)
            for try await row in rows {
                digest.add(row: try PostgresImageWriter.image(table: table, of: row))
                report.row()
            }
        }
        report.finish()
        return digest.finish()
    }

    /// The first stored poster whose bytes are not what its row says (``ChainReplay/posterProblem``).
    private static func posterProblem(_ tx: PostgresTransaction) async throws -> String? {
        let posters = try await tx.connection.query(
            "SELECT sha256, format, size, bytes FROM posters ORDER BY sha256", logger: tx.logger)
        let columns = (String, String, Int64, Data).self
        for try await (sha256, format, size, bytes) in posters.decode(columns) {
            if let problem = ChainReplay.posterProblem(
                sha256: sha256, format: format, size: size, bytes: [UInt8](bytes))
            {
                return problem
            }
        }
        return nil
    }

    /// What the schema check finds wrong: migrations other than this version's, or a trigger, rule or table added
    /// to the ledger's schema outside gridcast (rows changed by one would not be in the event log).
    static func schemaProblem(_ tx: PostgresTransaction) async throws -> String? {
        let applied = try await tx.values("SELECT version FROM schema_migrations ORDER BY version", as: String.self)
        let expected = PostgresSchema.migrations.map(\.version).sorted()
        guard applied == expected else {
            return "schema_migrations lists \(applied) but this ledger version has \(expected)"
        }
        let known = Set(LedgerTables.primaryKeys.keys).union(["events", "event_head", "schema_migrations"])
            .union(PostgresSchema.auxiliaryTables)
        let tables = try await tx.values(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()", as: String.self)
        if let added = tables.sorted().first(where: { !known.contains($0) }) {
            return "schema: table \(added) is not part of a gridcast ledger (added outside gridcast)"
        }
        let triggers = try await tx.values(
            """
            SELECT t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND n.nspname = current_schema()
            UNION ALL
            SELECT r.rulename::text FROM pg_rules r WHERE r.schemaname = current_schema()
            ORDER BY 1
            """, as: String.self)
        if let trigger = triggers.first {
            return "schema: trigger or rule \(trigger) is not part of a gridcast ledger (added outside gridcast)"
        }
        return nil
    }
}
