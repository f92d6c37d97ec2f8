import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Testing

@testable import Ledger

/// `gridcast ledger copy` moves a ledger between the stores with its event chain as stored: a checkpoint taken before
/// the copy verifies on the copy, and on a copy of the copy.
@Suite(
    "ledger copy: SQLite to PostgreSQL and back, every row and event kept, checkpoints still verify", .serialized,
    .enabled(if: PostgresTestServer.url != nil))
struct LedgerCopyTests {
    let directory: TemporaryDirectory
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let notices = ["n1", "n2", "n3", "n4"]

    init() throws {
        directory = try TemporaryDirectory("ledger-copy")
    }

    /// A fresh PostgreSQL database of the test server, as a config's `ledger.url` names it.
    func postgres(_ name: String) async throws -> LedgerSettings {
        var settings = LedgerSettings()
        settings.postgres = try PostgresLocation(
            parsing: try await PostgresTestServer.url(for: directory.path + "/" + name))
        return settings
    }

    func plan(_ id: String, groups: [String], sink: String = "wecom", notice: Notice? = nil) -> Plan {
        Plan(
            notice: notice ?? Notice(id: id, title: "T \(id)", text: "不转账 \(id)", urgent: false), selector: "all",
            origin: "test",
            targets: groups.map {
                PlanTarget(groupID: $0, groupName: "群\($0)", sink: sink, note: $0 == "b" ? "poster not shown" : nil)
            },
            now: now)
    }

    /// A ledger with every kind of row: a poster notice and a plain one, claimed and settled deliveries, a
    /// customer-group task and a schedule firing.
    func fill(_ store: any LedgerStore) async throws {
        let poster = Notice(id: "n1", title: "海报", text: "不转账", poster: TestPosters.poster(), link: TestPosters.card)
        _ = try await store.plan(plan("n1", groups: ["c", "a", "b"], notice: poster))
        _ = try await store.plan(plan("n2", groups: ["a", "b"]))
        let claimed = try await store.claim(
            ClaimRequest(owner: "host:1:1", limit: 3, noticeID: "n1", now: now, timeout: .seconds(15)))
        #expect(claimed.count == 3)
        _ = try await store.record([
            DeliveryOutcome(claim: claimed[0], result: .sent, partsSent: 1, error: nil, at: now),
            DeliveryOutcome(claim: claimed[1], result: .dead, partsSent: 0, error: "HTTP 404", at: now),
        ])
        _ = try await store.plan(plan("n3", groups: ["a1", "a2"], sink: Group.customerGroupSink))
        let task = try #require(
            try await store.claimTaskBatches(
                TaskClaimRequest(
                    sink: Group.customerGroupSink, leaseOwner: "host:1:1", now: now, lease: .seconds(60),
                    batchSize: 100, key: { _ in TaskKey(app: "ls", member: "zhang") })
            ).first)
        var created = TaskUpdate()
        created.created = ("msg-1", now.addingTimeInterval(3600))
        created.nextAt = now.addingTimeInterval(60)
        #expect(try await store.recordTask(task.handle, created, at: now))
        let firing = Firing(scheduleID: "daily", fireAt: now, outcome: .fired, note: "", recordedAt: now)
        #expect(try await store.recordFiring(firing, plans: [plan("n4", groups: ["a"])]) != nil)
    }

    /// Rows per ledger table of the SQLite ledger at `path`.
    func counts(_ path: String) throws -> [String: Int64] {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            var counts: [String: Int64] = [:]
            for table in ["posters", "notices", "mass_tasks", "deliveries", "schedule_firings"] {
                counts[table] = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)")
            }
            return counts
        }
    }

    func expectSameRecords(_ copy: any LedgerStore, as source: any LedgerStore) async throws {
        let notices = try await copy.notices(ids: Self.notices)
        #expect(notices.count == Self.notices.count)
        #expect(notices == (try await source.notices(ids: Self.notices)))
        #expect(notices["n1"]?.notice.poster?.bytes == TestPosters.red)
        for id in Self.notices {
            let deliveries = try await copy.deliveries(noticeID: id)
            #expect(!deliveries.isEmpty)
            #expect(deliveries == (try await source.deliveries(noticeID: id)), "deliveries of \(id)")
        }
        // Planning order kept: n1 was planned to c, a, b in that order.
        #expect(try await copy.deliveries(noticeID: "n1").map(\.groupID) == ["c", "a", "b"])
        #expect(try await copy.firings(scheduleID: "daily").count == 1)
        let messageIDs = try await copy.taskMessageIDs(noticeIDs: ["n3"])
        #expect(messageIDs.count == 2 && Set(messageIDs.values) == ["msg-1"])
        #expect(messageIDs == (try await source.taskMessageIDs(noticeIDs: ["n3"])))
    }

    @Test func aSQLiteLedgerCopiedToPostgreSQLAndBackVerifiesWithACheckpointTakenBefore() async throws {
        defer { directory.remove() }
        let sourcePath = directory.file("source.sqlite")
        let source = try SQLiteLedgerStore(path: sourcePath)
        try await fill(source)
        let checkpoint = try await source.head()
        let sourceCounts = try counts(sourcePath)

        let postgres = try await postgres("copy")
        let there = try await LedgerCopy.copy(from: LedgerSettings(path: sourcePath), to: postgres)
        #expect(there.head == checkpoint && there.events == checkpoint.seq)
        #expect(there.rows == sourceCounts && there.deliveries == 8)
        let copy = try await LedgerStores.open(postgres, access: .existing)
        #expect(try await copy.head() == checkpoint)
        #expect(try await copy.verify(checkpoint: checkpoint) == .ok(events: checkpoint.seq, head: checkpoint))
        try await expectSameRecords(copy, as: source)

        let backPath = directory.file("back.sqlite")
        let back = try await LedgerCopy.copy(from: postgres, to: LedgerSettings(path: backPath))
        #expect(back.head == checkpoint && back.rows == sourceCounts)
        #expect(try counts(backPath) == sourceCounts)
        #expect(
            try SQLiteLedgerStore.verify(path: backPath, checkpoint: checkpoint)
                == .ok(events: checkpoint.seq, head: checkpoint))
        let copied = try SQLiteLedgerStore(path: backPath)
        try await expectSameRecords(copied, as: source)

        // Both copies go on: new events chain to the copied head, and a new task does not take a copied task's id.
        for store in [copy, copied] {
            _ = try await store.plan(plan("n5", groups: ["a3"], sink: Group.customerGroupSink))
            let task = try #require(
                try await store.claimTaskBatches(
                    TaskClaimRequest(
                        sink: Group.customerGroupSink, leaseOwner: "host:1:1", now: now, lease: .seconds(60),
                        batchSize: 100, key: { _ in TaskKey(app: "ls", member: "li") })
                ).first)
            #expect(task.deliveries.map(\.groupID) == ["a3"])
            guard case .ok(_, let head) = try await store.verify(checkpoint: checkpoint) else {
                Issue.record("a copy that went on must still verify from the checkpoint")
                continue
            }
            #expect(head.seq > checkpoint.seq)
        }
    }

    @Test func pagesOfAFewRowsEachCopyTheSameAsOnePage() async throws {
        defer { directory.remove() }
        let sourcePath = directory.file("source.sqlite")
        let source = try SQLiteLedgerStore(path: sourcePath)
        try await fill(source)
        let grey = Notice(id: "n6", title: "灰", text: "灰", poster: TestPosters.poster(TestPosters.grey))
        _ = try await source.plan(plan("n6", groups: ["a", "b", "c", "d", "e"], notice: grey))
        let later = Firing(
            scheduleID: "daily", fireAt: now.addingTimeInterval(86400), outcome: .skipped, note: "quiet",
            recordedAt: now)
        _ = try await source.recordFiring(later, plans: [])
        let weekly = Firing(scheduleID: "weekly", fireAt: now, outcome: .skipped, note: "", recordedAt: now)
        _ = try await source.recordFiring(weekly, plans: [])
        let checkpoint = try await source.head()
        let pages = LedgerCopy.PageSizes(rows: 2, posters: 1, events: 3)

        let postgres = try await postgres("pages")
        let there = try await LedgerCopy.copy(from: LedgerSettings(path: sourcePath), to: postgres, pages: pages)
        #expect(there.rows == (try counts(sourcePath)) && there.rows["posters"] == 2)
        #expect(there.rows["schedule_firings"] == 3)
        let copy = try await LedgerStores.open(postgres, access: .existing)
        #expect(try await copy.verify(checkpoint: checkpoint) == .ok(events: checkpoint.seq, head: checkpoint))
        #expect(try await copy.deliveries(noticeID: "n6").map(\.groupID) == ["a", "b", "c", "d", "e"])

        let backPath = directory.file("back.sqlite")
        let back = try await LedgerCopy.copy(from: postgres, to: LedgerSettings(path: backPath), pages: pages)
        #expect(back.rows == there.rows && back.head == checkpoint)
        #expect(
            try SQLiteLedgerStore.verify(path: backPath, checkpoint: checkpoint)
                == .ok(events: checkpoint.seq, head: checkpoint))
        #expect(try await SQLiteLedgerStore(path: backPath).firings(scheduleID: "daily").count == 2)
    }

    @Test func aLedgerOfThousandsOfDeliveriesAndHundredsOfEventsIsCopiedWhole() async throws {
        defer { directory.remove() }
        let sourcePath = directory.file("source.sqlite")
        let source = try SQLiteLedgerStore(path: sourcePath)
        _ = try await source.plan(plan("big", groups: (0..<2500).map { "g\($0)" }))
        for index in 0..<150 {
            _ = try await source.plan(plan("small\(index)", groups: ["g\(index)"]))
        }
        let checkpoint = try await source.head()
        #expect(checkpoint.seq > 150, "more events than a page holds")
        let postgres = try await postgres("big")
        let there = try await LedgerCopy.copy(from: LedgerSettings(path: sourcePath), to: postgres)
        #expect(there.deliveries == 2650 && there.events == checkpoint.seq)
        let copy = try await LedgerStores.open(postgres, access: .existing)
        #expect(try await copy.verify(checkpoint: checkpoint) == .ok(events: checkpoint.seq, head: checkpoint))
        let order = try await copy.deliveries(noticeID: "big").map(\.groupID)
        #expect(order == (try await source.deliveries(noticeID: "big")).map(\.groupID))
        let backPath = directory.file("back.sqlite")
        _ = try await LedgerCopy.copy(from: postgres, to: LedgerSettings(path: backPath))
        #expect(
            try SQLiteLedgerStore.verify(path: backPath, checkpoint: checkpoint)
                == .ok(events: checkpoint.seq, head: checkpoint))
    }

    @Test func aSourceNotAtThisVersionsSchemaIsRefused() async throws {
        defer { directory.remove() }
        let sourcePath = directory.file("old.sqlite")
        let queue = try DatabaseQueue(path: sourcePath)
        try SQLiteLedgerStore.migrator.migrate(queue, upTo: "v9-posters")
        do {
            _ = try await LedgerCopy.copy(from: LedgerSettings(path: sourcePath), to: try await postgres("old"))
            Issue.record("a source at an older schema must be refused")
        } catch let error as LedgerError {
            #expect(error.isInvalid && "\(error)".contains("schema"), "\(error)")
        }
        let applied = try await queue.read { db in try SQLiteLedgerStore.migrator.appliedIdentifiers(db) }
        #expect(!applied.contains("v10-mass-tasks"), "the source is not migrated")
    }

    @Test func aTargetThatIsNotEmptyIsRefusedAndLeftAsItWas() async throws {
        defer { directory.remove() }
        let sourcePath = directory.file("source.sqlite")
        let source = try SQLiteLedgerStore(path: sourcePath)
        try await fill(source)
        let postgres = try await postgres("taken")
        let taken = try await LedgerStores.open(postgres, access: .create)
        _ = try await taken.plan(plan("other", groups: ["x"]))
        let before = try await taken.head()

        await #expect(throws: LedgerError.self) {
            try await LedgerCopy.copy(from: LedgerSettings(path: sourcePath), to: postgres)
        }
        #expect(try await taken.head() == before)
        #expect(try await taken.notices(ids: Self.notices).isEmpty)
        #expect(try await taken.verify(checkpoint: nil) == .ok(events: before.seq, head: before))

        // And into a SQLite ledger holding rows: the source's own file, say.
        let sourceHead = try await source.head()
        do {
            _ = try await LedgerCopy.copy(from: postgres, to: LedgerSettings(path: sourcePath))
            Issue.record("a copy into a ledger holding rows must be refused")
        } catch let error as LedgerError {
            #expect(error.isInvalid && "\(error)".contains("not empty"))
        }
        #expect(try await source.head() == sourceHead)
    }

    @Test func theCommandCopiesPrintsTheHeadAndVerifiesWithoutShowingThePassword() async throws {
        defer { directory.remove() }
        let sourcePath = directory.file("source.sqlite")
        let source = try SQLiteLedgerStore(path: sourcePath)
        try await fill(source)
        let checkpoint = try await source.head()
        let groups = [Group(id: "a", name: "群a", sink: "wecom", url: "http://127.0.0.1:9/cgi-bin/webhook/send?key=k")]
        let config = try directory.write("source.yaml", TestGroups.yaml(groups, ledger: sourcePath))
        // The test server trusts every login: the password is only there to be kept out of the output.
        let secret = "pw-\(UUID().uuidString)"
        let plain = try await PostgresTestServer.url(for: directory.path + "/cli")
        let url = plain.replacingOccurrences(of: "postgres://postgres@", with: "postgres://postgres:\(secret)@")
        #expect(url.contains(secret))

        let run = try await GridcastProcess.run(["ledger", "copy", "--from", config, "--to", url])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("copied \(checkpoint.seq) events, 8 deliveries from \(sourcePath) to postgres://"))
        #expect(run.stdout.contains("; head \(checkpoint)\n"))
        #expect(run.stdout.contains("verify: ok \(checkpoint)"))
        let again = try await GridcastProcess.run(["ledger", "copy", "--from", config, "--to", url])
        #expect(again.status == 2)
        #expect(again.stderr.contains("not empty"), "\(again.stderr)")
        for output in [run.stdout, run.stderr, again.stdout, again.stderr] {
            #expect(!output.contains(secret))
        }

        // The operator's check on the copy: the checkpoint taken before it.
        let copied = try directory.write("copy.yaml", TestGroups.yaml(groups, ledger: plain))
        let verify = try await GridcastProcess.run(
            ["ledger", "verify", "--config", copied, "--checkpoint", "\(checkpoint)"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout == "ok \(checkpoint)\n")
    }
}
