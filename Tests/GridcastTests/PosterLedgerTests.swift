import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Testing

@testable import Ledger

/// Small real images, written as bytes: a 1×1 red and a 1×1 grey PNG, and the start of a JPEG.
enum TestPosters {
    static let red = [UInt8](
        Data(
            base64Encoded:
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
        )!)
    static let grey = [UInt8](
        Data(
            base64Encoded:
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")!)
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0x00, 0xFF, 0xD9]

    static func poster(_ bytes: [UInt8] = red, url: String? = "https://example.org/96110.png") -> Poster {
        try! Poster(bytes: bytes, url: url)
    }

    static let card = LinkCard(
        url: "https://mp.example.org/s/abc", title: "警惕养老诈骗", description: "社区民警提醒",
        pictureURL: "https://mp.example.org/cover.jpg")
}

/// The ledger keeps each notice's poster (content-addressed) and link card and each delivery's note; the event chain
/// and `ledger verify` cover them (docs/ledger.md, docs/rich-notices.md).
@Suite("Ledger: posters, link cards and notes are recorded, returned as recorded, and verified", .serialized)
struct PosterLedgerTests {
    let directory: TemporaryDirectory
    let path: String
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    init() throws {
        directory = try TemporaryDirectory("poster-ledger")
        path = directory.file("ledger.sqlite")
    }

    func plan(_ notice: Notice, notes: [String: String] = [:]) -> Plan {
        Plan(
            notice: notice, selector: "all", origin: "test",
            targets: ["a", "b"].map { PlanTarget(groupID: $0, groupName: "群\($0)", sink: "wecom", note: notes[$0]) },
            now: now)
    }

    var richNotice: Notice {
        Notice(id: "n1", title: "海报", text: "不转账", poster: TestPosters.poster(), link: TestPosters.card)
    }

    @Test(arguments: StoreKind.allCases)
    func aPosterAndCardComeBackExactlyAsRecordedWithEachDeliverysNote(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        let result = try await store.plan(plan(richNotice, notes: ["b": "poster not shown: no image_url"]))
        #expect(result.created && result.added == 2)
        let stored = try #require(try await store.notice(id: "n1"))
        #expect(stored.notice == richNotice)
        #expect(stored.notice.poster?.bytes == TestPosters.red)
        #expect(stored.contentHash == richNotice.contentHash)
        let deliveries = try await store.deliveries(noticeID: "n1")
        #expect(deliveries.map(\.note) == [nil, "poster not shown: no image_url"])
        #expect(deliveries.first?.poster == PosterSummary(TestPosters.poster()))
        #expect(deliveries.first?.link == TestPosters.card)
        // The same content again is the same notice; another poster or card under the id is a conflict.
        #expect(try await store.plan(plan(richNotice)).created == false)
        var other = richNotice
        other.poster = TestPosters.poster(TestPosters.grey)
        await #expect(throws: LedgerError.conflict(noticeID: "n1")) { try await store.plan(plan(other)) }
        other = richNotice
        other.link?.title = "另一篇"
        await #expect(throws: LedgerError.conflict(noticeID: "n1")) { try await store.plan(plan(other)) }
        guard case .ok = try await store.verify(checkpoint: nil) else {
            Issue.record("a ledger with a poster notice must verify")
            return
        }
    }

    @Test func aPosterIsStoredOnceAndItsEventCarriesItsKeyNotItsBytes() async throws {
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: path)
        _ = try await store.plan(plan(richNotice))
        var second = richNotice
        second.id = "n2"
        second.link = nil
        _ = try await store.plan(plan(second))
        let queue = try DatabaseQueue(path: path)
        let sha = TestPosters.poster().sha256
        try await queue.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM posters") == 1)
            #expect(try String.fetchAll(db, sql: "SELECT poster_sha256 FROM notices ORDER BY id") == [sha, sha])
            let payloads = try String.fetchAll(db, sql: "SELECT payload FROM events WHERE kind = 'plan' ORDER BY seq")
            let first = try #require(payloads.first)
            #expect(first.contains("\"table\":\"posters\""))
            #expect(first.contains(sha) && first.contains("\"format\":\"png\""))
            #expect(first.contains("\"size\":\(TestPosters.red.count)"))
            #expect(first.contains("\"link_title\":\"警惕养老诈骗\""))
            #expect(!first.contains("bytes"), "the image itself is not in the event")
            #expect(!payloads[1].contains("\"table\":\"posters\""), "a poster already stored is not logged again")
        }
    }

    @Test func verifyCatchesASwappedOrEditedPoster() async throws {
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: path)
        _ = try await store.plan(plan(richNotice))
        let sha = TestPosters.poster().sha256
        let edits = [
            ("swapped", "UPDATE posters SET bytes = ?", [Data(TestPosters.grey)] as StatementArguments),
            ("size", "UPDATE posters SET size = size + 1", []),
            ("format", "UPDATE posters SET format = 'jpeg'", []),
            // Another image under its own key, and the notice pointed at it (as the sqlite3 CLI can, keys unchecked).
            (
                "rekeyed",
                "UPDATE posters SET bytes = ?, sha256 = ?; UPDATE notices SET poster_sha256 = ?",
                [
                    Data(TestPosters.grey), TestPosters.poster(TestPosters.grey).sha256,
                    TestPosters.poster(TestPosters.grey).sha256,
                ]
            ),
        ]
        for (name, sql, arguments) in edits {
            let copy = directory.file("\(name).sqlite")
            try await DatabaseQueue(path: path).writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM INTO ?", arguments: [copy])
            }
            var configuration = Configuration()
            configuration.foreignKeysEnabled = false
            try await DatabaseQueue(path: copy, configuration: configuration).write { db in
                try db.execute(sql: sql, arguments: arguments)
            }
            let result = try await GridcastProcess.run(["ledger", "verify", "--ledger", copy])
            #expect(result.status == 1, "\(name): \(result.stdout)")
            #expect(result.stdout.contains("posters row") || result.stdout.contains("notices row"), "\(name)")
            if name != "rekeyed" {
                #expect(result.stdout.contains("posters row \(sha)"), "\(name): \(result.stdout)")
            }
        }
        guard case .ok = try await store.verify(checkpoint: nil) else {
            Issue.record("the untouched ledger must verify")
            return
        }
    }

    @Test func aLedgerOfTheVersionBeforeMigratesVerifiesAndTakesPosters() async throws {
        defer { directory.remove() }
        let old = Notice(id: "old", title: "旧", text: "旧通知")
        let queue = try DatabaseQueue(path: path)
        // Rows written before the event log, adopted by it (v4), then a ledger of the version before posters.
        try SQLiteLedgerStore.migrator.migrate(queue, upTo: "v3-schedule-firings")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO notices VALUES ('old', '旧', '旧通知', 0, ?, 'all', 'test', 1);
                    INSERT INTO deliveries (id, notice_id, group_id, group_name, sink, state, next_at, planned_at,
                        updated_at) VALUES ('d1', 'old', 'a', '群a', 'wecom', 'planned', 1, 1, 1),
                        ('d2', 'old', 'b', '群b', 'wecom', 'sent', 1, 1, 1);
                    INSERT INTO notices VALUES ('many', '多', '多群', 0, ?, 'all', 'test', 1);
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
                    INSERT INTO deliveries (id, notice_id, group_id, group_name, sink, state, next_at, planned_at,
                        updated_at) SELECT 'm' || i, 'many', 'g' || i, '群', 'wecom', 'sent', 1, 1, 1 FROM n;
                    """, arguments: [old.contentHash, Notice(id: "many", title: "多", text: "多群").contentHash])
        }
        try SQLiteLedgerStore.migrator.migrate(queue, upTo: "v8-accepted")
        try queue.close()
        let upgraded = try SQLiteLedgerStore(path: path)
        guard case .ok = try await upgraded.verify(checkpoint: nil) else {
            Issue.record("an upgraded ledger must verify")
            return
        }
        // The rows imaged again a thousand at a time: one event for the notices, three for 2,502 deliveries.
        let migrationEvents = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE actor = 'migration v9'")
        }
        #expect(migrationEvents == 4)
        #expect(try await upgraded.notice(id: "old")?.notice == old)
        #expect(try await upgraded.deliveries(noticeID: "old").map(\.note) == [nil, nil])
        _ = try await upgraded.plan(plan(richNotice, notes: ["a": "poster not shown"]))
        #expect(try await upgraded.notice(id: "n1")?.notice == richNotice)
        guard case .ok = try await upgraded.verify(checkpoint: nil) else {
            Issue.record("an upgraded ledger with a poster notice must verify")
            return
        }
    }
}
