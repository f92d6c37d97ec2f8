import Emulator
import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Testing

@testable import Ledger

/// Tamper evidence: the hash-chained event log, `gridcast ledger verify`, and checkpoints.
@Suite("ledger verify", .serialized)
struct LedgerVerifyTests {
    /// A ledger after a day of work: sends, a permanent failure, two in doubt and resolved, a schedule firing.
    struct History {
        let directory: TemporaryDirectory
        let configPath: String
        var ledgerPath: String { directory.file("ledger.sqlite") }

        func run(_ arguments: [String]) async throws -> GridcastProcess.Result {
            try await GridcastProcess.run(arguments, environment: ["GRIDCAST_LOG_LEVEL": "warning"])
        }

        func verify(_ path: String? = nil, checkpoint: String? = nil) async throws -> GridcastProcess.Result {
            try await run(
                ["ledger", "verify", "--ledger", path ?? ledgerPath] + (checkpoint.map { ["--checkpoint", $0] } ?? [])
            )
        }

        /// A standalone copy of the ledger (WAL folded in), to tamper with.
        func copy(_ name: String) throws -> String {
            let path = directory.file(name)
            try? FileManager.default.removeItem(atPath: path)
            let queue = try DatabaseQueue(path: ledgerPath)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [path]) }
            return path
        }
    }

    /// What the fast check alone (``ChainDigest``) says of the ledger at `path`: its head when consistent, nil when
    /// it sends `verify` on to the replay.
    static func digest(_ path: String, checkpoint: String? = nil) throws -> LedgerCheckpoint? {
        try DatabaseQueue(path: path).read { db in
            try LedgerVerifier.digest(db, checkpoint: checkpoint.flatMap(LedgerCheckpoint.init(parsing:)))
        }
    }

    static func history() async throws -> History {
        let directory = try TemporaryDirectory("verify")
        let server = try await EmulatorServer.start(
            groups: TestGroups.wecom(5, port: 0),
            faults: FaultPlan(faults: ["g0002": [.permanent], "g0003": [.reset], "g0004": [.reset]]),
            enforceRateLimits: false
        )
        let groups = TestGroups.wecom(5, port: server.port)
        let path = try directory.write(
            "gridcast.yaml", TestGroups.yaml(groups, ledger: directory.file("ledger.sqlite"), timeout: "2s"))
        let history = History(directory: directory, configPath: path)
        let first = try await history.run(
            ["send", "--config", path, "--to", "all", "--id", "morning", "--title", "早安提醒", "--text", "不回拨、不轻信"])
        #expect(first.status == 1, "one dead, two in doubt")
        for (group, resolution) in [("g0003", "sent"), ("g0004", "resend")] {
            let resolved = try await history.run(
                [
                    "ledger", "resolve", "--config", path, "--notice", "morning", "--group", group, "--as", resolution,
                    "--note", "checked",
                ]
            )
            #expect(resolved.status == 0, "\(resolved.stderr)")
        }
        let second = try await history.run(
            ["send", "--config", path, "--to", "tag:even", "--id", "noon", "--text", "不点击、不透露"])
        #expect(second.status == 0, "\(second.stdout)")
        let store = try SQLiteLedgerStore(path: history.ledgerPath)
        let results = try await store.recordFiring(
            Firing(scheduleID: "daily", fireAt: Date(), outcome: .fired, note: "", recordedAt: Date()),
            plans: [
                Plan(
                    notice: Notice(id: "evening", title: "晚间", text: "不转账", urgent: false), selector: "all",
                    origin: "schedule:daily",
                    targets: groups.map { PlanTarget(groupID: $0.id, groupName: $0.name, sink: $0.sink) }, now: Date()
                )
            ]
        )
        #expect(results?.first?.added == 5)
        try await server.stop()
        return history
    }

    @Test func rowImagesRoundTripThroughTheirCanonicalEncoding() throws {
        let tricky = "引号\"反斜杠\\换行\n制表\t\u{1}🙂</script>"
        let images = [
            RowImage(table: "notices", row: ["text": .text(tricky), "urgent": .integer(-3), "gone": .null]),
            RowImage(table: "deliveries", row: ["id": .text("dlv_1"), "ratio": .real(0.5)]),
        ]
        let change = RowImage(
            table: "deliveries", columns: ["id", "state"], values: [.text("dlv_1"), .text("sent")], isChange: true)
        let payload = EventLog.encode(images + [change])
        #expect(payload.hasPrefix(#"[{"row":{"gone":null,"text":"引号\"反斜杠\\换行\u000a"#))
        #expect(payload.hasSuffix(#"{"set":{"id":"dlv_1","state":"sent"},"table":"deliveries"}]"#))
        #expect(try EventLog.decode(payload) == images + [change])
        // The fast reader reads what the decoder does, but takes no real: the ledger writes none, and verify falls
        // back to the decoder for a payload it can't read.
        let integral = [images[0], change]
        var canonical = EventLog.encode(integral)
        let read = canonical.withUTF8 { bytes in
            PayloadReader.starts(in: bytes)?.map { PayloadReader.image(in: bytes, at: $0) }
        }
        #expect(read == integral)
        var withReal = payload
        #expect(
            withReal.withUTF8 { bytes in PayloadReader.image(in: bytes, at: PayloadReader.starts(in: bytes)![1]) }
                == nil)
        #expect(EventLog.encode(images + [change]) == payload, "the same rows always encode to the same bytes")
        // Text that is not UTF-8 is not read, with or without escapes before it: a truncated four-byte sequence
        // (which decoding would replace by one character of the same length), a lone continuation byte.
        for bad: [UInt8] in [[0xF0, 0x90, 0x80], [0x80], [0x5C, 0x6E, 0xF0, 0x90, 0x80], [0x61, 0xC3]] {
            let bytes = Array(#"[{"row":{"id":""#.utf8) + bad + Array(#""},"table":"deliveries"}]"#.utf8)
            let image = bytes.withUnsafeBufferPointer { buffer in
                PayloadReader.starts(in: buffer).map { PayloadReader.image(in: buffer, at: $0[0]) }
            }
            #expect(image == .some(nil), "\(bad)")
        }
        let valid = Array(#"[{"row":{"id":"dlv_\n🙂"},"table":"deliveries"}]"#.utf8)
        #expect(
            valid.withUnsafeBufferPointer { PayloadReader.image(in: $0, at: PayloadReader.starts(in: $0)![0]) }
                == RowImage(table: "deliveries", row: ["id": .text("dlv_\n🙂")]))
    }

    @Test func aDayOfWorkVerifiesAndPrintsItsHead() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let result = try await history.verify()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let head = try await SQLiteLedgerStore(path: history.ledgerPath).head()
        #expect(result.stdout == "ok \(head.seq):\(head.hash)\n")
        #expect(head.seq >= 8)
        #expect(try Self.digest(history.copy("digest.sqlite")) == head, "the fast check alone finds it consistent")
        let viaConfig = try await history.run(["ledger", "verify", "--config", history.configPath])
        #expect(viaConfig.stdout == result.stdout)
        // Of a config, verify reads the ledger alone: a groups file it can't read is no reason not to verify.
        let ledgerOnly = history.directory.file("ledger-only.yaml")
        try "ledger:\n  path: ledger.sqlite\ngroups_file: gone.csv\n".write(
            toFile: ledgerOnly, atomically: true, encoding: .utf8)
        #expect(try await history.run(["ledger", "verify", "--config", ledgerOnly]).stdout == result.stdout)
        // What verify prints is what --checkpoint takes, and the older two-word form is taken too.
        let printed = String(result.stdout.dropFirst(3).dropLast())
        #expect(try await history.verify(checkpoint: printed).status == 0)
        #expect(try await history.verify(checkpoint: "\(head.seq) \(head.hash)").status == 0)
        let wrong = try await history.verify(checkpoint: "\(head.seq)-\(head.hash)")
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("expected SEQ:HASH"))
    }

    /// After a day with permanent failures, the three periods agree in every format, and
    /// the ledger listing has one row per delivery.
    @Test func aDayOfWorkAgreesInEveryReportFormatAndListing() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        var totals: [[Int]] = []
        for period in ["daily", "weekly", "monthly"] {
            let base = ["report", period, "--config", history.configPath, "--format"]
            let json = try await history.run(base + ["json"])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let numbers = ["deliveries", "sent", "dead", "in_doubt", "notices", "groups"].map {
                report[$0] as? Int ?? -1
            }
            totals.append(numbers)
            #expect(numbers[2] == 1, "the permanent failure counts as dead in the \(period) report")
            let table = try await history.run(base + ["table"])
            let lastLine = String(table.stdout.split(separator: "\n").last ?? "")
            #expect(lastLine.contains("投递 \(numbers[0]) 次"), "\(period) table: \(lastLine)")
            #expect(lastLine.contains("成功 \(numbers[1]) 次"))
            #expect(lastLine.contains("失败 \(numbers[2]) 次"))
            let markdown = try await history.run(base + ["markdown"])
            #expect(markdown.stdout.contains(lastLine), "markdown carries the same summary line")
            let csv = try await history.run(base + ["csv"])
            let total = try #require(csv.stdout.split(separator: "\n").last { $0.contains(",TOTAL,") })
            let queued = (report["pending"] as? Int ?? -1) + (report["retry"] as? Int ?? -1)
            #expect(
                // accepted, then no customer-group outcomes and no tasks.
                total.hasSuffix(",\(numbers[0]),\(numbers[1]),\(numbers[2]),\(numbers[3]),\(queued),0,0,0,0,0,0"),
                "\(period) csv: \(total)")
        }
        #expect(totals[0] == totals[1] && totals[1] == totals[2], "all of it happened today: \(totals)")
        let listing = try await history.run(["ledger", "list", "--config", history.configPath, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == totals[0][0])
        #expect(Set(rows.map { "\($0["notice_id"] ?? "")|\($0["group_id"] ?? "")" }).count == rows.count)
    }

    @Test func resolveIsAnOperatorEventInTheChain() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let resolves = try DatabaseQueue(path: history.ledgerPath).read { db in
            try Row.fetchAll(db, sql: "SELECT actor, payload FROM events WHERE kind = 'resolve' ORDER BY seq")
        }
        #expect(resolves.count == 2)
        for row in resolves {
            let actor: String = row["actor"]
            let payload: String = row["payload"]
            #expect(!actor.isEmpty)
            #expect(payload.contains("resolved as"), "the row image carries who and why")
        }
    }

    /// The reports' running sums are no event's, so the chain can't speak for them: a count changed, a sum
    /// dropped or one made up with plain SQL must each make verify fail, naming the table.
    @Test func editedReportSumsAreCaught() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let edits = [
            ("tally_groups", "UPDATE tally_groups SET count = count + 1 WHERE state = 'sent' AND group_id = 'g0001'"),
            ("tally_notices", "DELETE FROM tally_notices WHERE notice_id = 'noon'"),
            ("tally_groups", "INSERT INTO tally_groups VALUES (1, 'g0009', '假群', 'wecom', 'sent', 5)"),
            // A sum of nothing changes no figure, but makes up a group the reports would list.
            ("tally_groups", "INSERT INTO tally_groups VALUES (1, 'g0009', '假群', 'wecom', 'sent', 0)"),
        ]
        for (table, sql) in edits {
            let copy = try history.copy("sums.sqlite")
            let changed = try await DatabaseQueue(path: copy).write { db in
                try db.execute(sql: sql)
                return db.changesCount
            }
            #expect(changed > 0, "\(sql)")
            let result = try await history.verify(copy)
            #expect(result.status == 1 && result.stdout.hasPrefix("FAILED: \(table)"), "\(sql): \(result.stdout)")
        }
        let untouched = try await history.verify(history.copy("sums.sqlite"))
        #expect(untouched.status == 0, "\(untouched.stdout)")
    }

    /// Every column of every ledger table, edited alone in a copy with plain SQL (what the sqlite3 CLI does),
    /// must make verify fail.
    @Test func everySingleEditedFieldIsCaught() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let tables = ["notices", "deliveries", "schedule_firings", "events", "grdb_migrations"]
        var undetected: [String] = []
        var edits = 0
        for table in tables {
            let columns = try await DatabaseQueue(path: history.ledgerPath).read { db in
                try db.columns(in: table).map(\.name)
            }
            for column in columns {
                let copy = try history.copy("edit.sqlite")
                // As the sqlite3 CLI does: foreign keys are not enforced, so even a referenced id can be edited.
                var configuration = Configuration()
                configuration.foreignKeysEnabled = false
                let edited = try await DatabaseQueue(path: copy, configuration: configuration).write { db in
                    try Self.edit(db, table: table, column: column)
                }
                guard edited else {
                    undetected.append("\(table).\(column): could not be edited")
                    continue
                }
                edits += 1
                let result = try await history.verify(copy)
                if result.status != 1 || !result.stdout.hasPrefix("FAILED:") {
                    undetected.append("\(table).\(column)")
                }
                // The migrations table is the schema check's; every other edit the fast check catches by itself.
                if table != "grdb_migrations", try Self.digest(copy) != nil {
                    undetected.append("\(table).\(column) by the fast check")
                }
            }
        }
        #expect(undetected.isEmpty, "edits verify did not catch: \(undetected)")
        #expect(edits > 40)
    }

    /// Changes one field of one row (the middle one, so neither end of the chain is special), keeping to values
    /// the table's constraints accept.
    static func edit(_ db: Database, table: String, column: String) throws -> Bool {
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
        guard count > 0 else { return false }
        let rowid = try Int64.fetchOne(
            db, sql: "SELECT rowid FROM \(table) ORDER BY rowid LIMIT 1 OFFSET ?", arguments: [count / 2])!
        let current = try DatabaseValue.fetchOne(
            db, sql: "SELECT \(column) FROM \(table) WHERE rowid = ?", arguments: [rowid])!
        var candidates: [DatabaseValue] = []
        switch current.storage {
        case .int64(let number): candidates = [(number + 1000).databaseValue, (number - 1).databaseValue]
        case .string(let text):
            candidates = [(text + "x").databaseValue, "dead".databaseValue, "skipped".databaseValue]
        case .null: candidates = [1.databaseValue, "x".databaseValue]
        default: candidates = [1.databaseValue]
        }
        for candidate in candidates where candidate != current {
            do {
                try db.execute(
                    sql: "UPDATE \(table) SET \(column) = ? WHERE rowid = ?", arguments: [candidate, rowid])
                if db.changesCount == 1 { return true }
            } catch {
                continue  // a CHECK or UNIQUE constraint refused this value; try the next
            }
        }
        return false
    }

    @Test func deletedReorderedAndAddedEventsAndRowsAreCaught() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let tamperings: [(String, String)] = [
            ("a deleted event", "DELETE FROM events WHERE seq = 5"),
            ("the last event deleted", "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)"),
            (
                "two events swapped",
                """
                UPDATE events SET seq = -1 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 4;
                UPDATE events SET seq = 4 WHERE seq = -1
                """
            ),
            ("a deleted delivery", "DELETE FROM deliveries WHERE group_id = 'g0002'"),
            (
                "an added delivery",
                """
                INSERT INTO deliveries (id, notice_id, group_id, group_name, sink, state, next_at, planned_at, updated_at)
                VALUES ('dlv_forged', 'morning', 'g9999', 'x', 'wecom', 'sent', 0, 0, 0)
                """
            ),
            ("a notice's text and hash edited together", "UPDATE notices SET text = 'x', content_hash = 'y'"),
        ]
        for (what, sql) in tamperings {
            let copy = try history.copy("tampered.sqlite")
            try await DatabaseQueue(path: copy).write { db in try db.execute(sql: sql) }
            let result = try await history.verify(copy)
            #expect(result.status == 1, "\(what) went unnoticed: \(result.stdout)")
            #expect(try Self.digest(copy) == nil, "\(what) went unnoticed by the fast check")
        }
    }

    /// A change names only the columns it set: one for a row no event made, or for a column the row lacks, is
    /// caught even when whoever wrote it kept the chain whole.
    @Test func aChangeToAnUnknownRowOrColumnIsCaught() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let delivery = try await DatabaseQueue(path: history.ledgerPath).read { db in
            try String.fetchOne(db, sql: "SELECT id FROM deliveries WHERE group_id = 'g0001' AND notice_id = 'morning'")
        }
        let forgeries: [(RowImage, String)] = [
            (
                RowImage(
                    table: "deliveries", columns: ["id", "state"], values: [.text("dlv_forged"), .text("sent")],
                    isChange: true),
                "changes deliveries row dlv_forged, which no earlier event made"
            ),
            (
                RowImage(
                    table: "deliveries", columns: ["id", "shadow"], values: [.text(delivery ?? ""), .integer(1)],
                    isChange: true),
                "sets a column deliveries row \(delivery ?? "") (notice morning, group g0001) does not have"
            ),
        ]
        for (image, message) in forgeries {
            let copy = try history.copy("forged.sqlite")
            try await DatabaseQueue(path: copy).write { db in
                try EventLog.append(db, kind: .outcome, actor: "forger", at: Date(), images: [image])
            }
            let result = try await history.verify(copy)
            #expect(result.status == 1)
            #expect(result.stdout.contains(message), "\(result.stdout)")
            #expect(try Self.digest(copy) == nil, "\(message): unnoticed by the fast check")
        }
    }

    @Test func aCheckpointCatchesTruncationAndAWholesaleRewrite() async throws {
        var history = try await Self.history()
        defer { history.directory.remove() }
        let early = try history.copy("early.sqlite")
        let store = try SQLiteLedgerStore(path: history.ledgerPath)
        _ = try await store.plan(
            Plan(
                notice: Notice(id: "late", title: "", text: "晚", urgent: false), selector: "all", origin: "cli",
                targets: [PlanTarget(groupID: "g0000", groupName: "x", sink: "wecom")], now: Date()
            )
        )
        let checkpoint = try await store.head().description
        #expect(try await history.verify(checkpoint: checkpoint).status == 0)
        // Later work extends the checkpoint.
        _ = try await store.plan(
            Plan(
                notice: Notice(id: "later", title: "", text: "更晚", urgent: false), selector: "all", origin: "cli",
                targets: [PlanTarget(groupID: "g0001", groupName: "x", sink: "wecom")], now: Date()
            )
        )
        #expect(try await history.verify(checkpoint: checkpoint).status == 0)

        // An older copy put back in place: consistent on its own, but it ends before the checkpoint.
        #expect(try await history.verify(early).status == 0)
        let truncated = try await history.verify(early, checkpoint: checkpoint)
        #expect(truncated.status == 1)
        #expect(truncated.stdout.contains("truncated"), "\(truncated.stdout)")
        #expect(try Self.digest(early) != nil && Self.digest(early, checkpoint: checkpoint) == nil)

        // A rewritten ledger: a whole new history, consistent on its own, long enough to reach the checkpoint.
        history = try await Self.history()
        defer { history.directory.remove() }
        let rewrittenStore = try SQLiteLedgerStore(path: history.ledgerPath)
        for index in 0..<30 {
            _ = try await rewrittenStore.plan(
                Plan(
                    notice: Notice(id: "r\(index)", title: "", text: "r", urgent: false), selector: "all",
                    origin: "cli", targets: [PlanTarget(groupID: "g0000", groupName: "x", sink: "wecom")], now: Date()
                )
            )
        }
        #expect(try await history.verify().status == 0)
        let rewritten = try await history.verify(checkpoint: checkpoint)
        #expect(rewritten.status == 1)
        #expect(rewritten.stdout.contains("rewritten"), "\(rewritten.stdout)")
        #expect(try Self.digest(history.ledgerPath, checkpoint: checkpoint) == nil)

        let bad = try await history.verify(checkpoint: "12:nothex")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--checkpoint"))
    }

    @Test func anOlderLedgerIsAdoptedWhenItGainsTheEventLog() async throws {
        let directory = try TemporaryDirectory("adopt")
        defer { directory.remove() }
        let path = directory.file("old.sqlite")
        let pool = try DatabasePool(path: path)
        try SQLiteLedgerStore.migrator.migrate(pool, upTo: "v3-schedule-firings")
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO notices VALUES ('old', '旧', '旧通知', 0, ?, 'all', 'cli', 0);
                    INSERT INTO deliveries (id, notice_id, group_id, group_name, sink, state, next_at, planned_at,
                        updated_at, sent_at)
                    VALUES ('dlv_old', 'old', 'g1', '一', 'wecom', 'sent', 0, 0, 0, 0);
                    """,
                arguments: [Notice(id: "old", title: "旧", text: "旧通知", urgent: false).contentHash]
            )
        }
        try pool.close()
        let store = try SQLiteLedgerStore(path: path)
        let verification = try await store.verify(checkpoint: nil)
        guard case .ok(let events, _) = verification else {
            Issue.record("an adopted ledger should verify: \(verification)")
            return
        }
        // Adopted when the event log came (v4); the notices, then the deliveries, imaged again when rows gained the
        // poster, card and note columns (v9), and the deliveries again when they gained their task (v10).
        #expect(events == 4)
    }

    /// The schema is part of what verify proves: a trigger could rewrite rows as gridcast writes them, a view or an
    /// extra table could hold what the event log never saw, and a dropped index changes no row at all.
    @Test func anAddedTriggerViewIndexOrTableIsCaught() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let changes: [(String, String, String)] = [
            (
                "a trigger",
                """
                CREATE TRIGGER mark_sent AFTER INSERT ON deliveries
                BEGIN UPDATE deliveries SET state = 'sent' WHERE id = NEW.id; END
                """,
                "trigger mark_sent"
            ),
            ("a view", "CREATE VIEW sent_only AS SELECT * FROM deliveries WHERE state = 'sent'", "view sent_only"),
            ("an index", "CREATE INDEX by_name ON deliveries (group_name)", "index by_name"),
            ("an extra table", "CREATE TABLE shadow (id TEXT PRIMARY KEY, note TEXT)", "table shadow"),
        ]
        for (what, sql, name) in changes {
            let copy = try history.copy("schema.sqlite")
            try await DatabaseQueue(path: copy).write { db in try db.execute(sql: sql) }
            let result = try await history.verify(copy)
            #expect(result.status == 1, "\(what) went unnoticed: \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains(name), "\(what): \(result.stdout)")
        }
        let dropped = try history.copy("schema.sqlite")
        let index = try await DatabaseQueue(path: dropped).write { db in
            let name = try String.fetchOne(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            try db.execute(sql: "DROP INDEX \(name ?? "none")")
            return name ?? "none"
        }
        let result = try await history.verify(dropped)
        #expect(result.status == 1, "a dropped index went unnoticed: \(result.stdout)")
        #expect(result.stdout.contains("index \(index)"), "\(result.stdout)")
        #expect(try await history.verify().status == 0, "the untouched ledger still verifies")
    }

    /// Exit 1 means "tampered"; a ledger verify cannot read is another answer (2), with the reason: an auditor's
    /// read-only copy in a directory they can't write (SQLite can't add the WAL index beside it), or a path that
    /// is a directory. A file that is not a database at all is still a failed verification (1).
    @Test func aLedgerVerifyCannotOpenIsNotCalledTampered() async throws {
        let history = try await Self.history()
        defer { history.directory.remove() }
        let notADatabase = try history.directory.write("garbage.sqlite", String(repeating: "not a ledger ", count: 400))
        let garbage = try await history.verify(notADatabase)
        #expect(garbage.status == 1, "\(garbage.stdout)\(garbage.stderr)")

        let directory = try await history.verify(history.directory.path)
        #expect(directory.status == 2, "\(directory.stdout)\(directory.stderr)")
        #expect(directory.stderr.contains("cannot open"), "\(directory.stderr)")
        #expect(!directory.stdout.contains("FAILED"))

        // Read-only: as root, verify runs as `nobody` (who can read the ledger but not write its directory);
        // otherwise the directory itself is made read-only.
        let readOnly: GridcastProcess.Result
        if getuid() == 0 {
            readOnly = try await GridcastProcess.launch(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", GridcastProcess.executable, "ledger", "verify",
                    "--ledger", history.ledgerPath,
                ]
            ).wait()
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: history.directory.path)
            defer {
                try? FileManager.default.setAttributes(
                    [.posixPermissions: 0o755], ofItemAtPath: history.directory.path)
            }
            readOnly = try await history.verify()
        }
        #expect(readOnly.status == 2, "\(readOnly.stdout)\(readOnly.stderr)")
        #expect(readOnly.stderr.contains("cannot open"), "\(readOnly.stderr)")
        #expect(try await history.verify().status == 0, "verify with access still says ok")
    }

    /// In a ledger whose text encoding is UTF-16, every text column is converted to UTF-8 as it is read, and the
    /// event images must still match the rows byte for byte (verify replays them against every row).
    @Test func aUTF16LedgerRecordsTheSameEventsAsAUTF8One() async throws {
        let directory = try TemporaryDirectory("verify-utf16")
        defer { directory.remove() }
        let ledger = directory.file("ledger.sqlite")
        let queue = try DatabaseQueue(path: ledger)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA encoding = 'UTF-16le'; CREATE TABLE scratch (x); DROP TABLE scratch")
        }
        try queue.close()
        let server = try await EmulatorServer.start(
            groups: TestGroups.wecom(3, port: 0), faults: FaultPlan(faults: ["g0001": [.permanent]]),
            enforceRateLimits: false
        )
        let groups = TestGroups.wecom(3, port: server.port)
        let config = try directory.write("gridcast.yaml", TestGroups.yaml(groups, ledger: ledger, timeout: "2s"))
        let history = History(directory: directory, configPath: config)
        let send = try await history.run(
            ["send", "--config", config, "--to", "all", "--id", "utf16", "--title", "提醒🙂", "--text", "不转账，不透露验证码。"])
        try await server.stop()
        #expect(send.status == 1, "one dead: \(send.stdout)\(send.stderr)")
        let encoding = try await DatabaseQueue(path: ledger).read { db in
            try String.fetchOne(db, sql: "PRAGMA encoding")
        }
        #expect(encoding == "UTF-16le")
        let result = try await history.verify()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}
