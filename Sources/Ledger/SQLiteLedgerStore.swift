import Foundation
import GRDB
import GridcastCore

/// The embedded ledger: one SQLite file in WAL mode with `synchronous=FULL`, so a commit survives power loss
/// before the call returns. Several gridcast processes may share the file; SQLite's write lock serializes them.
public final class SQLiteLedgerStore: LedgerStore {
    private let pool: DatabasePool
    /// The file path.
    public let path: String
    /// The file opened (device and inode): a write checks that `path` still names it (``LedgerFile``).
    private let file: LedgerFile?

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

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE notices (
                        id TEXT PRIMARY KEY NOT NULL,
                        title TEXT NOT NULL,
                        text TEXT NOT NULL,
                        urgent INTEGER NOT NULL,
                        content_hash TEXT NOT NULL,
                        selector TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE deliveries (
                        id TEXT PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state IN ('planned','claimed','sent','retry','dead','in_doubt')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        next_at INTEGER NOT NULL,
                        parts_total INTEGER NOT NULL DEFAULT 1,
                        parts_sent INTEGER NOT NULL DEFAULT 0,
                        planned_at INTEGER NOT NULL,
                        first_attempt_at INTEGER,
                        last_attempt_at INTEGER,
                        sent_at INTEGER,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        UNIQUE (notice_id, group_id)
                    );
                    CREATE INDEX deliveries_due ON deliveries(state, next_at);
                    CREATE INDEX deliveries_updated ON deliveries(updated_at);
                    """
            )
        }
        migrator.registerMigration("v2-part-in-flight") { db in
            // Multi-part deliveries mark each part durably before sending it, so a crash between parts is known
            // to be one: such a delivery resumes at its first unsent part instead of going in_doubt.
            try db.execute(sql: "ALTER TABLE deliveries ADD COLUMN part_in_flight INTEGER")
        }
        migrator.registerMigration("v3-schedule-firings") { db in
            // Every firing of a schedule, fired or skipped, once: a restart never fires it twice.
            try db.execute(
                sql: """
                    CREATE TABLE schedule_firings (
                        schedule_id TEXT NOT NULL,
                        fire_at INTEGER NOT NULL,
                        outcome TEXT NOT NULL CHECK (outcome IN ('fired', 'skipped')),
                        note TEXT NOT NULL DEFAULT '',
                        notices TEXT NOT NULL DEFAULT '',
                        recorded_at INTEGER NOT NULL,
                        PRIMARY KEY (schedule_id, fire_at)
                    )
                    """
            )
        }
        migrator.registerMigration("v4-event-log") { db in
            // Tamper evidence: from here on every change is also an event in a hash chain. Rows that already exist
            // are adopted by the first event, so an older ledger verifies from the moment it was upgraded.
            try db.execute(sql: EventLog.createTable)
            var images: [RowImage] = []
            for table in ["notices", "deliveries", "schedule_firings"] {
                images += try EventLog.images(db, table: table)
            }
            try EventLog.append(db, kind: .adopt, actor: "migration v4", at: Date(), images: images)
        }
        migrator.registerMigration("v5-state-check-without-in") { db in
            // `CHECK (state IN (…))` built a scratch table of the six names for every row written: about a third of
            // a claim's or an outcome's update. Comparisons accept exactly the same states for a fraction of that.
            // SQLite can't alter a CHECK in place, so the table is rebuilt as its documentation describes, rows and
            // rowids kept (the event log keys rows by id, and nothing but the schema changes).
            let columns = """
                id, notice_id, group_id, group_name, sink, state, attempts, claim_seq, lease_owner, lease_until,
                next_at, parts_total, parts_sent, planned_at, first_attempt_at, last_attempt_at, sent_at, updated_at,
                last_error, part_in_flight
                """
            try db.execute(
                sql: """
                    CREATE TABLE deliveries_v5 (
                        id TEXT PRIMARY KEY NOT NULL,
                        notice_id TEXT NOT NULL REFERENCES notices(id),
                        group_id TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state = 'planned' OR state = 'claimed' OR state = 'sent' OR state = 'retry'
                                OR state = 'dead' OR state = 'in_doubt'),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claim_seq INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_until INTEGER,
                        next_at INTEGER NOT NULL,
                        parts_total INTEGER NOT NULL DEFAULT 1,
                        parts_sent INTEGER NOT NULL DEFAULT 0,
                        planned_at INTEGER NOT NULL,
                        first_attempt_at INTEGER,
                        last_attempt_at INTEGER,
                        sent_at INTEGER,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        part_in_flight INTEGER,
                        UNIQUE (notice_id, group_id)
                    );
                    INSERT INTO deliveries_v5 (rowid, \(columns)) SELECT rowid, \(columns) FROM deliveries ORDER BY rowid;
                    DROP TABLE deliveries;
                    ALTER TABLE deliveries_v5 RENAME TO deliveries;
                    CREATE INDEX deliveries_due ON deliveries(state, next_at);
                    CREATE INDEX deliveries_updated ON deliveries(updated_at);
                    """
            )
        }
        migrator.registerMigration("v6-partial-indexes") { db in
            // Two full indexes made every claim and every outcome rewrite four index entries: (state, next_at) and
            // updated_at both change each time. Sent rows, nearly all of them, are never searched by state and
            // only by time, and open rows are few: so one index holds the rows not sent (the claims, lease expiry,
            // listings by state) and one the sent rows by time (the daily report). A delivery's claim then moves
            // one entry and its outcome two. The statements are written out, not shared: a migration stays as it
            // ran. Queries compare the state with literals (`StateCondition`), as the partial indexes require.
            try db.execute(
                sql: """
                    DROP INDEX deliveries_due;
                    DROP INDEX deliveries_updated;
                    CREATE INDEX deliveries_unsent ON deliveries(state, next_at)
                        WHERE state = 'planned' OR state = 'claimed' OR state = 'retry' OR state = 'dead'
                            OR state = 'in_doubt';
                    CREATE INDEX deliveries_sent ON deliveries(updated_at) WHERE state = 'sent';
                    """
            )
        }
        return migrator
    }

    // MARK: - Writes

    public func plan(_ plan: Plan) async throws -> PlanResult {
        try await write { db in
            var entry = PlanEvents(kind: .plan, actor: plan.origin, at: plan.now)
            let result = try Self.insert(plan, into: db, logging: &entry)
            try entry.append(db)
            return result
        }
    }

    public func recordFiring(_ firing: Firing, plans: [Plan]) async throws -> [PlanResult]? {
        try await write { db in
            let recorded = try Row.fetchOne(
                db,
                sql: """
                    INSERT OR IGNORE INTO schedule_firings
                        (schedule_id, fire_at, outcome, note, notices, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    RETURNING *
                    """,
                arguments: [
                    firing.scheduleID, firing.fireAt.ledgerMillis, firing.outcome.rawValue, firing.note,
                    plans.map(\.notice.id).joined(separator: ","), firing.recordedAt.ledgerMillis,
                ]
            )
            // Already recorded (a restart, or another daemon on this ledger): the firing happened once already.
            guard let recorded else { return nil }
            var entry = PlanEvents(kind: .firing, actor: "schedule:\(firing.scheduleID)", at: firing.recordedAt)
            entry.images = [RowImage(table: "schedule_firings", row: recorded)]
            let results = try plans.map { try Self.insert($0, into: db, logging: &entry) }
            try entry.append(db)
            return results
        }
    }

    public func lastFiring(scheduleID: String) async throws -> Date? {
        try await read { db in
            try Int64.fetchOne(
                db, sql: "SELECT MAX(fire_at) FROM schedule_firings WHERE schedule_id = ?", arguments: [scheduleID]
            ).map(Date.init(ledgerMillis:))
        }
    }

    public func firings(scheduleID: String) async throws -> [Firing] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM schedule_firings WHERE schedule_id = ? ORDER BY fire_at",
                arguments: [scheduleID]
            ).map { row in
                Firing(
                    scheduleID: row["schedule_id"], fireAt: Date(ledgerMillis: row["fire_at"]),
                    outcome: Firing.Outcome(rawValue: row["outcome"]) ?? .skipped, note: row["note"],
                    recordedAt: Date(ledgerMillis: row["recorded_at"])
                )
            }
        }
    }

    public func noticesHad(groupIDs: [String], among noticeIDs: [String]) async throws -> [String: Set<String>] {
        guard !groupIDs.isEmpty, !noticeIDs.isEmpty else { return [:] }
        return try await read { db in
            // A notice's revisions sort right after `id.rev-` and before `id.rev.`: a range on the unique index.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.group_id, d.notice_id FROM json_each(?) AS n
                    JOIN deliveries AS d
                      ON d.notice_id = n.value
                      OR (d.notice_id > n.value || ? AND d.notice_id < n.value || ?)
                    WHERE d.group_id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [
                    Self.jsonArray(noticeIDs), Notice.revisionMarker, String(Notice.revisionMarker.dropLast()) + ".",
                    Self.jsonArray(groupIDs),
                ]
            )
            var had: [String: Set<String>] = [:]
            for row in rows { had[row["group_id"], default: []].insert(row["notice_id"]) }
            return had
        }
    }

    static func jsonArray(_ values: [String]) -> String {
        String(data: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), encoding: .utf8) ?? "[]"
    }

    /// Records a notice (or finds it with the same content) and its deliveries, inside the caller's transaction;
    /// returns what it did. The rows it makes are logged through `entry`: the notice with the first chunk of
    /// deliveries, then one event per chunk.
    static func insert(_ plan: Plan, into db: Database, logging entry: inout PlanEvents) throws -> PlanResult {
        let now = plan.now.ledgerMillis
        let hash = plan.notice.contentHash
        var created = false
        var createdAt = plan.now
        if let row = try Row.fetchOne(
            db, sql: "SELECT content_hash, created_at FROM notices WHERE id = ?", arguments: [plan.notice.id])
        {
            guard (row["content_hash"] as String) == hash else {
                throw LedgerError.conflict(noticeID: plan.notice.id)
            }
            createdAt = Date(ledgerMillis: row["created_at"])
        } else {
            let row = try Row.fetchOne(
                db,
                sql: """
                    INSERT INTO notices (id, title, text, urgent, content_hash, selector, origin, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    RETURNING *
                    """,
                arguments: [
                    plan.notice.id, plan.notice.title, plan.notice.text, plan.notice.urgent, hash, plan.selector,
                    plan.origin, now,
                ]
            )
            entry.images += row.map { [RowImage(table: "notices", row: $0)] } ?? []
            created = true
        }
        // Many rows per statement: the per-statement work (reset, bind, RETURNING's scratch table) is paid once per
        // chunk instead of once per group. Each chunk is its own event, so a plan of any size never holds more
        // than one chunk's images in memory. A new notice has no deliveries yet, so every row is inserted (a
        // conflict aborts the plan) and its image is written from the values, as long as the table has exactly the
        // columns and defaults `PlannedRow` knows; otherwise, and when resuming a notice, the rows are read back.
        let fresh = try created && PlannedRow.matchesSchema(db)
        // Full chunks share one prepared insert; the last, shorter one gets its own.
        var prepared: (rows: Int, insert: RawStatement)?
        var added = 0
        for start in stride(from: plan.targets.startIndex, to: plan.targets.endIndex, by: 200) {
            let chunk = plan.targets[start..<min(start + 200, plan.targets.endIndex)]
            let rows = chunk.map { PlannedRow(plan: plan, target: $0) }
            if fresh {
                if chunk.count != prepared?.rows {
                    prepared = (
                        chunk.count, try RawStatement(db, sql: insertDeliveries(count: chunk.count, returning: false))
                    )
                }
                added += try insertNew(rows, with: prepared!.insert, logging: &entry, in: db)
            } else {
                added += try insertReadingBack(rows, logging: &entry, in: db)
            }
        }
        let total =
            created
            ? added
            : try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM deliveries WHERE notice_id = ?", arguments: [plan.notice.id]) ?? 0
        return PlanResult(created: created, added: added, total: total, createdAt: createdAt)
    }

    /// Inserts a new notice's `rows` with `insert`, each logged from its values; returns how many.
    private static func insertNew(
        _ rows: [PlannedRow], with insert: RawStatement, logging entry: inout PlanEvents, in db: Database
    ) throws -> Int {
        var images: [UInt8] = []
        images.reserveCapacity(rows.count * 480)
        for row in rows {
            try insert.bind(row.values)
            if !images.isEmpty { images.append(UInt8(ascii: ",")) }
            row.appendImage(to: &images)
        }
        let inserted = try insert.run()
        guard inserted == rows.count else {
            throw LedgerError.storage("planned \(inserted) of \(rows.count) deliveries")
        }
        try entry.append(db, encoded: images)
        return inserted
    }

    /// Inserts the `rows` not there yet and logs them as read back; returns how many were added.
    private static func insertReadingBack(
        _ rows: [PlannedRow], logging entry: inout PlanEvents, in db: Database
    ) throws -> Int {
        let insert = try db.cachedStatement(sql: insertDeliveries(count: rows.count, returning: true))
        var inserted = ReturnedRows(of: insert, table: "deliveries")
        let added = try inserted.run(insert, arguments: StatementArguments(rows.flatMap(\.values)))
        try entry.append(db, rows: inserted)
        return added
    }

    /// An insert of `count` planned deliveries (nine arguments each, as ``PlannedRow/values``): with `returning`,
    /// `INSERT OR IGNORE` returning the rows it added; without, a plain `INSERT` that fails on any conflict.
    static func insertDeliveries(count: Int, returning: Bool) -> String {
        let row = "(?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?)"
        return """
            INSERT \(returning ? "OR IGNORE " : "")INTO deliveries
                (id, notice_id, group_id, group_name, sink, state, next_at, parts_total, planned_at, updated_at)
            VALUES \(Array(repeating: row, count: count).joined(separator: ", "))\(returning ? " RETURNING *" : "")
            """
    }

    public func settle(_ outcomes: [DeliveryOutcome], claiming request: ClaimRequest?) async throws -> Settlement {
        guard !outcomes.isEmpty || (request?.limit ?? 0) > 0 else { return Settlement(lost: [], claimed: []) }
        let batch = OutcomeBatch(outcomes)
        return try await write { db in
            let lost = try Self.record(batch, in: db)
            let claimed = try request.map { try Self.claim($0, in: db) } ?? []
            return Settlement(lost: lost, claimed: claimed)
        }
    }

    /// The columns a claim sets, with the key: what its event records of each row.
    static let claimSets = [
        "id", "state", "claim_seq", "attempts", "lease_owner", "lease_until", "first_attempt_at", "last_attempt_at",
        "updated_at",
    ]

    /// The claim statement, with and without the filter on one notice: made once, not on every claim.
    static let claimSQL = (all: makeClaimSQL(forNotice: false), notice: makeClaimSQL(forNotice: true))

    /// Claims the oldest due deliveries, up to `:limit`, of `:notice` when `forNotice`.
    private static func makeClaimSQL(forNotice: Bool) -> String {
        // Oldest due first. Each state is read in index order (state, next_at, rowid) and only the two short
        // heads are merged: `state IN (…) ORDER BY next_at` would sort every due row on every claim.
        let noticeFilter = forNotice ? " AND notice_id = :notice" : ""
        func due(_ state: DeliveryState) -> String {
            """
            SELECT next_at, r FROM (
                SELECT next_at, rowid AS r FROM deliveries
                WHERE state = '\(state.rawValue)' AND next_at <= :now\(noticeFilter)
                ORDER BY next_at, rowid LIMIT :limit)
            """
        }
        return """
            UPDATE deliveries SET
                state = 'claimed', claim_seq = claim_seq + 1, attempts = attempts + 1,
                lease_owner = :owner, lease_until = :leaseBase + :timeout * (parts_total - parts_sent),
                first_attempt_at = COALESCE(first_attempt_at, :now), last_attempt_at = :now, updated_at = :now
            WHERE rowid IN (
                SELECT r FROM (\(due(.planned)) UNION ALL \(due(.retry)) ORDER BY next_at, r LIMIT :limit))
            RETURNING \(claimSets.joined(separator: ", ")), notice_id, group_id, parts_total, parts_sent
            """
    }

    /// Claims inside the caller's transaction.
    static func claim(_ request: ClaimRequest, in db: Database) throws -> [ClaimedDelivery] {
        let now = request.now.ledgerMillis
        let sql = request.noticeID == nil ? claimSQL.all : claimSQL.notice
        var arguments: StatementArguments = [
            "owner": request.owner, "leaseBase": now + request.leaseMargin.milliseconds,
            "timeout": request.timeout.milliseconds, "now": now, "limit": request.limit,
        ]
        if let noticeID = request.noticeID { arguments += ["notice": noticeID] }
        let statement = try db.cachedStatement(sql: sql)
        var rows = ReturnedRows(
            of: statement, table: "deliveries",
            keep: [
                "id", "notice_id", "group_id", "claim_seq", "attempts", "parts_total", "parts_sent", "lease_until",
            ],
            changed: Self.claimSets
        )
        try rows.run(statement, arguments: arguments)
        try EventLog.append(db, kind: .claim, actor: request.owner, at: request.now, rows: rows)
        return (0..<rows.count).map { row in
            func text(_ kept: Int) -> String { rows.value(row, kept) ?? "" }
            func number(_ kept: Int) -> Int { rows.value(row, kept) ?? 0 }
            return ClaimedDelivery(
                id: text(0), noticeID: text(1), groupID: text(2), claimSeq: number(3), attempts: number(4),
                partsTotal: number(5), partsSent: number(6), owner: request.owner,
                leaseUntil: Date(ledgerMillis: rows.value(row, 7) ?? 0)
            )
        }
    }

    public func recordProgress(_ claim: ClaimedDelivery, partsSent: Int, at: Date) async throws -> Bool {
        try await updateClaimed(
            claim, kind: .progress, at: at, set: "parts_sent = ?, part_in_flight = NULL, updated_at = ?",
            [partsSent, at.ledgerMillis]
        )
    }

    public func markPartInFlight(
        _ claim: ClaimedDelivery, part: Int, of partsTotal: Int, at: Date
    ) async throws
        -> Bool
    {
        try await updateClaimed(
            claim, kind: .part, at: at, set: "part_in_flight = ?, parts_total = ?, updated_at = ?",
            [part, partsTotal, at.ledgerMillis]
        )
    }

    public func renewLease(_ claim: ClaimedDelivery, until: Date, at: Date) async throws -> Bool {
        try await updateClaimed(claim, kind: .lease, at: at, set: "lease_until = ?", [until.ledgerMillis])
    }

    /// One fenced change to a claimed delivery, logged as an event; false when the claim was lost.
    private func updateClaimed(
        _ claim: ClaimedDelivery, kind: LedgerEventKind, at: Date, set assignments: String,
        _ values: StatementArguments
    ) async throws -> Bool {
        try await write { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    UPDATE deliveries SET \(assignments)
                    WHERE id = ? AND state = 'claimed' AND claim_seq = ? AND lease_owner = ?
                    RETURNING *
                    """,
                arguments: values + [claim.id, claim.claimSeq, claim.owner]
            )
            guard let row else { return false }
            try EventLog.append(
                db, kind: kind, actor: claim.owner, at: at, images: [RowImage(table: "deliveries", row: row)])
            return true
        }
    }

    /// Records outcomes inside the caller's transaction; returns the ids whose claim was lost.
    ///
    /// Each row is found by its id (the primary key) and fenced on the claim. An outcome sets only values it knows,
    /// so its event is written from them without reading the row back (`RETURNING` costs about as much again as the
    /// update). The fence includes `attempts`, which a claim sets and nothing else changes while it holds.
    static func record(_ batch: OutcomeBatch, in db: Database) throws -> [String] {
        let outcomes = batch.outcomes
        guard !outcomes.isEmpty else { return [] }
        let update = try RawStatement(
            cachedIn: db,
            sql: """
                UPDATE deliveries SET
                    state = ?, next_at = COALESCE(?, next_at), attempts = ?, parts_sent = ?,
                    sent_at = COALESCE(?, sent_at), last_error = ?, lease_owner = NULL, lease_until = NULL,
                    part_in_flight = NULL, updated_at = ?
                WHERE id = ? AND state = 'claimed' AND claim_seq = ? AND lease_owner = ? AND attempts = ?
                """
        )
        // A deferral's new state depends on the row's history: it reads back the columns it set.
        let deferral = try db.cachedStatement(
            sql: """
                UPDATE deliveries SET
                    state = CASE WHEN attempts > 1 OR parts_sent > 0 THEN 'retry' ELSE 'planned' END,
                    first_attempt_at = CASE WHEN attempts > 1 OR parts_sent > 0 THEN first_attempt_at END,
                    attempts = attempts - 1, next_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
                WHERE id = ? AND state = 'claimed' AND claim_seq = ? AND lease_owner = ?
                RETURNING \(Self.deferralReturning)
                """
        )
        var lost: [String] = []
        // The outcomes' change images as JSON objects, comma-separated.
        var changes: [UInt8] = []
        changes.reserveCapacity(outcomes.count * 320)
        var deferred = ReturnedRows(of: deferral, table: "deliveries", changed: Self.deferralSets)
        for (outcome, entry) in zip(outcomes, batch.entries) {
            let at = outcome.at.ledgerMillis
            switch entry {
            case .deferral(let until):
                let found = try deferred.run(
                    deferral,
                    arguments: [
                        until.ledgerMillis, at, outcome.claim.id, outcome.claim.claimSeq,
                        outcome.claim.owner,
                    ]
                )
                if found == 0 { lost.append(outcome.claim.id) }
            case .change(let change, let image):
                // Bound one by one, in the statement's order: this runs for every outcome.
                try update.bind(change.state.rawValue)
                try update.bind(change.nextAt)
                try update.bind(Int64(change.attempts))
                try update.bind(Int64(outcome.partsSent))
                try update.bind(change.sentAt)
                try update.bind(change.error)
                try update.bind(at)
                try update.bind(outcome.claim.id)
                try update.bind(Int64(outcome.claim.claimSeq))
                try update.bind(outcome.claim.owner)
                try update.bind(Int64(outcome.claim.attempts))
                if try update.run() == 0 {
                    lost.append(outcome.claim.id)
                } else {
                    if !changes.isEmpty { changes.append(UInt8(ascii: ",")) }
                    changes.append(contentsOf: batch.images[image])
                }
            }
        }
        try EventLog.append(
            db, kind: .outcome, actor: outcomes[0].claim.owner, at: outcomes.map(\.at).max() ?? Date(),
            encoded: changes, rows: deferred)
        return lost
    }

    /// What a deferral returns: ``deferralSets``, listed once rather than joined on every outcome batch.
    static let deferralReturning = deferralSets.joined(separator: ", ")

    /// The columns a deferral sets, with the key.
    static let deferralSets = [
        "id", "state", "first_attempt_at", "attempts", "next_at", "lease_owner", "lease_until", "updated_at",
    ]

    public func expireLeases(
        now: Date,
        policy: InDoubtPolicy,
        isOwnerAlive: @Sendable (String) -> Bool
    ) async throws -> [ExpiredLease] {
        // Liveness checks read /proc: do them outside the write transaction.
        let millis = now.ledgerMillis
        let (owners, overdue) = try await read { db in
            (
                try String.fetchAll(db, sql: "SELECT DISTINCT lease_owner FROM deliveries WHERE state = 'claimed'"),
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM deliveries WHERE state = 'claimed' AND lease_until < ?",
                    arguments: [millis]
                ) ?? 0
            )
        }
        let dead = owners.filter { !isOwnerAlive($0) }
        // The common case, checked without a write transaction (and its fsync): nothing to expire.
        if dead.isEmpty && overdue == 0 { return [] }
        return try await write { db in
            let now = now.ledgerMillis
            var expired: [ExpiredLease] = []
            var images: [RowImage] = []
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, lease_owner, parts_total, parts_sent, part_in_flight FROM deliveries
                    WHERE state = 'claimed' AND (lease_until < ? OR lease_owner IN (SELECT value FROM json_each(?)))
                    """,
                arguments: [now, String(data: try JSONEncoder().encode(dead), encoding: .utf8)]
            )
            for row in rows {
                let id: String = row["id"]
                let owner: String = row["lease_owner"]
                let partsTotal: Int = row["parts_total"]
                let partsSent: Int = row["parts_sent"]
                let inFlight: Int? = row["part_in_flight"]
                if partsTotal > 1 && inFlight == nil {
                    // Between parts: nothing is on the wire, so resume at the first unsent part. A live owner's next
                    // marker write is fenced out by this change, so it can't send either.
                    images += try Row.fetchAll(
                        db,
                        sql: """
                            UPDATE deliveries SET state = 'retry', next_at = ?, last_error = ?, lease_owner = NULL,
                                lease_until = NULL, updated_at = ?
                            WHERE id = ? AND state = 'claimed'
                            RETURNING *
                            """,
                        arguments: [
                            now, "claim ended between parts (\(partsSent) of \(partsTotal) sent): resuming", now, id,
                        ]
                    ).map { RowImage(table: "deliveries", row: $0) }
                    expired.append(ExpiredLease(deliveryID: id, owner: owner, newState: .retry))
                    continue
                }
                let state: DeliveryState = policy == .resend ? .retry : .inDoubt
                let why =
                    dead.contains(owner)
                    ? "outcome unknown: the process holding the claim died"
                    : "outcome unknown: lease expired"
                images += try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE deliveries SET state = ?, next_at = ?, last_error = ?, lease_owner = NULL,
                            lease_until = NULL, updated_at = ?
                        WHERE id = ? AND state = 'claimed'
                        RETURNING *
                        """,
                    arguments: [
                        state.rawValue, now, policy == .resend ? why + "; resending (dispatch.in_doubt: resend)" : why,
                        now, id,
                    ]
                ).map { RowImage(table: "deliveries", row: $0) }
                expired.append(ExpiredLease(deliveryID: id, owner: owner, newState: state))
            }
            try EventLog.append(db, kind: .expire, actor: "lease expiry", at: Date(ledgerMillis: now), images: images)
            return expired
        }
    }

    // MARK: - Reads

    public func pending(noticeID: String?, now: Date) async throws -> PendingStatus {
        try await read { db in
            var sql = """
                SELECT
                    SUM(state IN ('planned','retry') AND next_at <= ?) AS due,
                    SUM(state IN ('planned','retry') AND next_at > ?) AS later,
                    MIN(CASE WHEN state IN ('planned','retry') AND next_at > ? THEN next_at END) AS next_due,
                    SUM(state = 'claimed') AS claimed,
                    MIN(CASE WHEN state = 'claimed' THEN lease_until END) AS lease_expiry
                FROM deliveries WHERE \(StateCondition.any(of: [.planned, .retry, .claimed]))
                """
            let millis = now.ledgerMillis
            var arguments: StatementArguments = [millis, millis, millis]
            if let noticeID {
                sql += " AND notice_id = ?"
                arguments += [noticeID]
            }
            guard let row = try Row.fetchOne(db, sql: sql, arguments: arguments) else { return PendingStatus() }
            return PendingStatus(
                dueNow: row["due"] ?? 0,
                later: row["later"] ?? 0,
                nextDueAt: (row["next_due"] as Int64?).map(Date.init(ledgerMillis:)),
                claimed: row["claimed"] ?? 0,
                nextLeaseExpiry: (row["lease_expiry"] as Int64?).map(Date.init(ledgerMillis:))
            )
        }
    }

    public func notices(ids: [String]) async throws -> [String: StoredNotice] {
        guard !ids.isEmpty else { return [:] }
        return try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM notices WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [String(data: try JSONEncoder().encode(ids), encoding: .utf8)]
            )
            var result: [String: StoredNotice] = [:]
            for row in rows {
                let notice = Notice(id: row["id"], title: row["title"], text: row["text"], urgent: row["urgent"])
                result[notice.id] = StoredNotice(
                    notice: notice, contentHash: row["content_hash"], selector: row["selector"],
                    origin: row["origin"], createdAt: Date(ledgerMillis: row["created_at"])
                )
            }
            return result
        }
    }

    public func deliveries(noticeID: String) async throws -> [DeliveryRecord] {
        try await records(where: "d.notice_id = ?", [noticeID])
    }

    public func deliveries(noticeID: String, states: Set<DeliveryState>, limit: Int) async throws -> [DeliveryRecord] {
        let names = String(data: try JSONEncoder().encode(states.map(\.rawValue).sorted()), encoding: .utf8)
        return try await records(
            where: "d.notice_id = ? AND d.state IN (SELECT value FROM json_each(?))", [noticeID, names],
            limit: limit
        )
    }

    public func stateCounts(noticeID: String) async throws -> [DeliveryState: Int] {
        try await read { db in
            var counts: [DeliveryState: Int] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS n FROM deliveries WHERE notice_id = ? GROUP BY state",
                arguments: [noticeID]
            )
            for row in rows {
                if let state = DeliveryState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    public func deliveries(matching filter: DeliveryFilter) async throws -> [DeliveryRecord] {
        var conditions = ["1 = 1"]
        var arguments: StatementArguments = []
        var range: [String] = []
        var bounds: [Int64] = []
        if let from = filter.changedFrom {
            range.append("d.updated_at >= ?")
            bounds.append(from.ledgerMillis)
        }
        if let before = filter.changedBefore {
            range.append("d.updated_at < ?")
            bounds.append(before.ledgerMillis)
        }
        if let state = filter.state {
            // One state: its index (sent rows by time, the others by state) and the time on top.
            conditions.append(StateCondition.equals(state, column: "d.state"))
            conditions += range
            arguments += StatementArguments(bounds)
        } else if !range.isEmpty {
            let changed = StateCondition.changed(range.joined(separator: " AND "), arguments: bounds)
            conditions.append(changed.sql)
            arguments += StatementArguments(changed.arguments)
        }
        if let noticeID = filter.noticeID {
            conditions.append("d.notice_id = ?")
            arguments += [noticeID]
        }
        if let groupID = filter.groupID {
            conditions.append("d.group_id = ?")
            arguments += [groupID]
        }
        return try await records(where: conditions.joined(separator: " AND "), arguments)
    }

    public func resolve(
        noticeID: String,
        groupID: String,
        as resolution: Resolution,
        by operatorName: String,
        note: String,
        at: Date
    ) async throws -> DeliveryRecord {
        try await write { db in
            guard
                let state = try String.fetchOne(
                    db, sql: "SELECT state FROM deliveries WHERE notice_id = ? AND group_id = ?",
                    arguments: [noticeID, groupID]
                )
            else {
                throw LedgerError.invalid("no delivery of notice \(noticeID) to group \(groupID)")
            }
            guard state == DeliveryState.inDoubt.rawValue else {
                throw LedgerError.invalid(
                    "delivery of notice \(noticeID) to group \(groupID) is \(state), not in_doubt: nothing to resolve")
            }
            let millis = at.ledgerMillis
            let record = "resolved as \(resolution.rawValue) by \(operatorName)" + (note.isEmpty ? "" : ": \(note)")
            // `sent`: it is in the group; `resend`: it is not, so it is due again now.
            let assignment = resolution == .sent ? "state = 'sent', sent_at = ?" : "state = 'retry', next_at = ?"
            let change = try Row.fetchOne(
                db,
                sql: """
                    UPDATE deliveries SET \(assignment), last_error = ?, updated_at = ?
                    WHERE notice_id = ? AND group_id = ? AND state = 'in_doubt'
                    RETURNING *
                    """,
                arguments: [millis, record, millis, noticeID, groupID]
            )
            try EventLog.append(
                db, kind: .resolve, actor: operatorName, at: at,
                images: change.map { [RowImage(table: "deliveries", row: $0)] } ?? [])
            return try Row.fetchOne(
                db,
                sql: """
                    SELECT d.*, n.title AS notice_title FROM deliveries d JOIN notices n ON n.id = d.notice_id
                    WHERE d.notice_id = ? AND d.group_id = ?
                    """,
                arguments: [noticeID, groupID]
            ).map(Self.record(from:))!
        }
    }

    private func records(
        where condition: String,
        _ arguments: StatementArguments,
        limit: Int? = nil
    ) async throws -> [DeliveryRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, n.title AS notice_title FROM deliveries d JOIN notices n ON n.id = d.notice_id
                    WHERE \(condition) ORDER BY d.notice_id, d.rowid \(limit.map { "LIMIT \(max(0, $0))" } ?? "")
                    """,
                arguments: arguments
            ).map(Self.record(from:))
        }
    }

    private static func record(from row: Row) -> DeliveryRecord {
        func date(_ column: String) -> Date? { (row[column] as Int64?).map(Date.init(ledgerMillis:)) }
        return DeliveryRecord(
            id: row["id"], noticeID: row["notice_id"], noticeTitle: row["notice_title"], groupID: row["group_id"],
            groupName: row["group_name"], sink: row["sink"],
            state: DeliveryState(rawValue: row["state"]) ?? .inDoubt,
            attempts: row["attempts"], partsTotal: row["parts_total"], partsSent: row["parts_sent"],
            plannedAt: Date(ledgerMillis: row["planned_at"]), firstAttemptAt: date("first_attempt_at"),
            lastAttemptAt: date("last_attempt_at"), sentAt: date("sent_at"),
            updatedAt: Date(ledgerMillis: row["updated_at"]), nextAt: date("next_at"),
            leaseOwner: row["lease_owner"], leaseUntil: date("lease_until"), lastError: row["last_error"]
        )
    }

    // MARK: - Tamper evidence

    public func head() async throws -> LedgerCheckpoint {
        try await read { db in
            let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            return LedgerCheckpoint(seq: row?["seq"] ?? 0, hash: row?["hash"] ?? LedgerEvent.genesisHash)
        }
    }

    public func verify(checkpoint: LedgerCheckpoint?) async throws -> LedgerVerification {
        let verifier = LedgerVerifier(migrations: Self.migrator.migrations)
        return try await read { db in try verifier.verify(db, checkpoint: checkpoint) }
    }

    /// Verifies the ledger file at `path` without changing it: opened read-only, no migrations run (an audited
    /// copy stays as it was handed over, and a tampered migration table can't make gridcast rebuild tables).
    public static func verify(path: String, checkpoint: LedgerCheckpoint?) throws -> LedgerVerification {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "gridcast-ledger-verify"
        let verifier = LedgerVerifier(migrations: migrator.migrations)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                guard try db.tableExists("events") else {
                    return .failed("\(path) has no event log yet: open it once with this gridcast version to add it")
                }
                return try verifier.verify(db, checkpoint: checkpoint)
            }
        } catch let error as DatabaseError where LedgerVerifier.isAccessProblem(error) {
            throw LedgerError.unreadable("cannot open \(path): \(describe(error))")
        } catch {
            // Read, but not as a ledger: not a database, corrupt, or missing what the schema check let through.
            return .failed("\(path) cannot be read as a ledger: \(describe(error))")
        }
    }

    /// The writer connection's `journal_mode` and `synchronous` (2 = FULL), as SQLite reports them.
    func durability() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.writeWithoutTransaction { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            )
        }
    }

    // MARK: - Transactions

    public func checkWritable() async throws {
        try await write { _ in }
    }

    /// One IMMEDIATE write transaction: the write lock is taken up front, so two processes never deadlock on upgrade.
    /// It first checks that the path still names the file opened: a deleted or replaced ledger is never written.
    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
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

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw LedgerError.storage(Self.describe(error))
        }
    }

    /// SQLite's message without the SQL text or its arguments (which could hold message content).
    private static func describe(_ error: any Error) -> String {
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
