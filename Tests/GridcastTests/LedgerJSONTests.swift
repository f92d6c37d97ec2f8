import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Testing

@testable import Ledger

@Suite("The event log's canonical JSON: one writer, read back as written, the same bytes from every entry point")
struct LedgerJSONTests {
    /// Text that needs escaping, text beyond the BMP, and text with a NUL (read back up to it).
    static let texts = [
        "", "plain", "引号\"反斜杠\\", "换行\n制表\t回车\r", "\u{1}\u{1f}\u{7f}", "🙂𝄞 beyond the BMP", "</script>",
        "前\u{0}后",
    ]

    /// One value of every kind the ledger writes.
    static let values: [LedgerValue] =
        [
            .null, .integer(0), .integer(-1), .integer(1_764_403_200_000), .integer(9_007_199_254_740_993),
            .integer(Int64.max), .integer(Int64.min), .real(0.5), .real(-1.25e-7), .real(1.7976931348623157e308),
        ] + texts.map(LedgerValue.text)

    /// What `value` reads back as from SQLite: text up to its first NUL.
    static func readBack(_ value: LedgerValue) -> LedgerValue {
        guard case .text(let text) = value else { return value }
        return .text(String(text.prefix { $0 != "\u{0}" }))
    }

    static func text(_ value: LedgerValue?) -> String? {
        guard case .text(let text) = value else { return nil }
        return text
    }

    static func readBack(_ image: RowImage) -> RowImage {
        RowImage(
            table: image.table, columns: image.columns, values: image.values.map(readBack), isChange: image.isChange)
    }

    @Test func everyKindOfValueReadsBackAsWritten() throws {
        var row: [String: LedgerValue] = ["id": .text("dlv_1")]
        for (index, value) in Self.values.enumerated() { row["c\(index)"] = value }
        let images = [
            RowImage(table: "deliveries", row: row),
            RowImage(table: "notices", row: ["id": .text("n\"1"), "text": .text("前\u{0}后")], isChange: true),
        ]
        let payload = EventLog.encode(images)
        let expected = images.map(Self.readBack)
        #expect(try EventLog.decode(payload) == expected)
        #expect(EventLog.encode(try EventLog.decode(payload)) == payload, "written again, the same bytes")

        // A parser that knows nothing of `RowImage` reads the same values.
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [[String: Any]])
        #expect(objects.count == expected.count)
        for (object, image) in zip(objects, expected) {
            #expect(object["table"] as? String == image.table)
            let columns = try #require(object[image.isChange ? "set" : "row"] as? [String: Any])
            #expect(Set(columns.keys) == Set(image.columns))
            for (column, value) in zip(image.columns, image.values) {
                let read = columns[column]
                switch value {
                case .null: #expect(read is NSNull, "\(column)")
                case .integer(let number): #expect((read as? NSNumber)?.int64Value == number, "\(column)")
                case .real(let number): #expect((read as? NSNumber)?.doubleValue == number, "\(column)")
                case .text(let text): #expect(read as? String == text, "\(column)")
                }
            }
        }
    }

    @Test func keysGoInByteOrderAndStringsAreEscapedMinimally() {
        let image = RowImage(
            table: "t\"",
            row: [
                "b": .integer(1), "a": .integer(2), "B": .integer(3), "é": .integer(4), "中": .integer(5),
                "a_b": .integer(6), "aa": .integer(7), "s": .text("q\"b\\\n\u{1}\u{7f}🙂前\u{0}后"),
            ]
        )
        #expect(
            EventLog.encode([image])
                == #"[{"row":{"B":3,"a":2,"a_b":6,"aa":7,"b":1,"s":"q\"b\\\u000a\u0001"#
                + "\u{7f}🙂前" + #"","é":4,"中":5},"table":"t\""}]"#)
    }

    @Test func realsJSONCannotHoldAreWrittenAsNull() throws {
        let image = RowImage(table: "x", row: ["a": .real(.nan), "b": .real(.infinity), "c": .real(-.infinity)])
        let payload = EventLog.encode([image])
        #expect(payload == #"[{"row":{"a":null,"b":null,"c":null},"table":"x"}]"#)
        #expect(try EventLog.decode(payload) == [RowImage(table: "x", row: ["a": .null, "b": .null, "c": .null])])
    }

    @Test(arguments: [0, 7, 9, 10, 99, 100, -1, -10, 1_764_403_200_000, Int64.max, Int64.min])
    func integersAreWrittenAsTheirDecimalText(number: Int64) {
        var out = Array("x".utf8)
        CanonicalJSON.appendInteger(number, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x\(number)")
    }

    /// Every event's payload is exactly the canonical JSON of its rows as SQLite holds them right after: whether
    /// the image was written from the values (a new notice's rows, an outcome) or read back (claims, hand-backs,
    /// part marks, a resumed plan).
    @Test func aRowIsWrittenAlikeThroughEveryEntryPoint() async throws {
        let directory = try TemporaryDirectory("ledger-json")
        defer { directory.remove() }
        let path = directory.file("ledger.sqlite")
        let store = try SQLiteLedgerStore(path: path)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let notice = Notice(id: "n\"1\\", title: "标题🙂", text: "不转账\n\"引号\"", urgent: true)
        func plan(_ count: Int) -> Plan {
            Plan(
                notice: notice, selector: "all", origin: "test",
                targets: (0..<count).map { index in
                    PlanTarget(groupID: "g\(index)", groupName: Self.texts[index % Self.texts.count], sink: "wecom")
                },
                now: now)
        }
        let queue = try DatabaseQueue(path: path)
        var seen = try await store.head().seq
        /// Checks each event since the last call against the rows it names, as they are now.
        func check(_ step: String) async throws {
            let after = seen
            let events = try await queue.read { db in
                try String.fetchAll(
                    db, sql: "SELECT payload FROM events WHERE seq > ? ORDER BY seq", arguments: [after])
            }
            #expect(!events.isEmpty, "\(step): an event")
            for payload in events {
                let stored = try await queue.read { db in
                    try EventLog.decode(payload).map { image in
                        let id = try #require(Self.text(image["id"]), "every logged row here has a text id")
                        let row = try #require(
                            try Row.fetchOne(db, sql: "SELECT * FROM \(image.table) WHERE id = ?", arguments: [id]))
                        let full = RowImage(table: image.table, row: row)
                        return RowImage(
                            table: image.table, columns: image.columns, values: image.columns.map { full[$0]! },
                            isChange: image.isChange)
                    }
                }
                #expect(payload == EventLog.encode(stored), "\(step)")
            }
            seen = try await store.head().seq
        }

        // A new notice: its rows are written from their values.
        #expect(try await store.plan(plan(10)).added == 10)
        try await check("plan")
        // The same notice to more groups: the new rows are read back.
        #expect(try await store.plan(plan(13)).added == 3)
        try await check("resumed plan")
        let claims = try await store.claim(
            ClaimRequest(
                owner: "p\u{1}🙂", limit: 6, noticeID: nil, now: now, timeout: .seconds(15), leaseMargin: .seconds(30)))
        #expect(claims.count == 6)
        try await check("claim")
        #expect(try await store.markPartInFlight(claims[5], part: 1, of: 2, at: now))
        try await check("part mark")
        let later = now.addingTimeInterval(1)
        #expect(
            try await store.record([
                DeliveryOutcome(claim: claims[0], result: .sent, partsSent: 1, error: nil, at: later),
                DeliveryOutcome(
                    claim: claims[1], result: .retry(at: later.addingTimeInterval(60), refundAttempt: true),
                    partsSent: 0, error: "429 \"慢点\"\n", at: later),
                DeliveryOutcome(claim: claims[2], result: .dead, partsSent: 0, error: "坏\u{0}尾巴", at: later),
                DeliveryOutcome(claim: claims[3], result: .inDoubt, partsSent: 0, error: "超时🙂", at: later),
                DeliveryOutcome(
                    claim: claims[4], result: .deferred(until: later.addingTimeInterval(5)), partsSent: 0, error: nil,
                    at: later),
            ]).isEmpty)
        try await check("outcomes")
        #expect(
            try await store.expireLeases(now: later.addingTimeInterval(3600), policy: .hold) { _ in true }.count == 1)
        try await check("expiry")
        guard case .ok(_, let head) = try await store.verify(checkpoint: nil) else {
            Issue.record("verify failed")
            return
        }
        #expect(try await fastCheck(store) == head, "the fast check reads every escape as the replay does")
    }

    /// A planned row's image written from its values is byte for byte the image of the row SQLite stored.
    @Test func aPlannedRowsImageIsTheRowStored() async throws {
        let directory = try TemporaryDirectory("ledger-json-row")
        defer { directory.remove() }
        let path = directory.file("ledger.sqlite")
        let store = try SQLiteLedgerStore(path: path)
        let plan = Plan(
            notice: Notice(id: "n", title: "T", text: "x", urgent: false), selector: "all", origin: "test",
            targets: Self.texts.enumerated().map { PlanTarget(groupID: "g\($0)", groupName: $1, sink: "wecom") },
            now: Date(timeIntervalSince1970: 1_795_000_000))
        _ = try await store.plan(plan)
        let stored = try await DatabaseQueue(path: path).read { db in
            try EventLog.images(db, table: "deliveries")
        }
        let written = plan.targets.map { PlannedRow(plan: plan, target: $0).image }
        #expect(EventLog.encode(written) == EventLog.encode(stored))
        #expect(try EventLog.decode(EventLog.encode(written)) == stored)
    }
}
