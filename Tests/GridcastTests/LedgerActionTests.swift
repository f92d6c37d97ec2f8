import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Testing

@testable import Ledger

@Suite("Ledger store contract: an operator retries dead deliveries and cancels unsent ones")
struct LedgerActionTests {
    let directory: TemporaryDirectory
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    init() throws {
        directory = try TemporaryDirectory("ledger-actions")
    }

    func plan(_ ids: [String]) -> Plan {
        Plan(
            notice: Notice(id: "n1", title: "T", text: "不转账"), selector: "all", origin: "test",
            targets: ids.map { PlanTarget(groupID: $0, groupName: "群\($0)", sink: "wecom") }, now: now
        )
    }

    func claim(_ store: any LedgerStore, limit: Int = 10, at: Date? = nil) async throws -> [ClaimedDelivery] {
        try await store.claim(
            ClaimRequest(
                owner: "p", limit: limit, noticeID: nil, now: at ?? now, timeout: .seconds(15),
                leaseMargin: .seconds(30))
        )
    }

    func state(_ store: any LedgerStore, _ group: String) async throws -> DeliveryRecord? {
        try await store.deliveries(noticeID: "n1").first { $0.groupID == group }
    }

    /// a dead, b sent, c in_doubt.
    func settled(_ store: any LedgerStore) async throws {
        _ = try await store.plan(plan(["a", "b", "c"]))
        let claims = Dictionary(uniqueKeysWithValues: try await claim(store).map { ($0.groupID, $0) })
        let results: [String: DeliveryOutcome.Result] = ["a": .dead, "b": .sent, "c": .inDoubt]
        let lost = try await store.record(
            results.map { group, result in
                DeliveryOutcome(claim: claims[group]!, result: result, partsSent: 0, error: "errcode 93000", at: now)
            })
        #expect(lost.isEmpty)
    }

    func verifies(_ store: any LedgerStore) async throws -> Bool {
        if case .ok = try await store.verify(checkpoint: nil) { return true }
        return false
    }

    @Test(arguments: StoreKind.allCases)
    func retryPutsTheSameDeadRowsBackDueNowWithTheirAttemptsReset(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        try await settled(store)
        let later = now.addingTimeInterval(600)
        let result = try await store.retry(
            DeliverySelection(noticeID: "n1"), by: "alice", note: "bot re-added", at: later)
        #expect(result.changed.map(\.groupID) == ["a"])
        #expect(Set(result.unchanged.map(\.groupID)) == ["b", "c"])
        let row = try #require(try await state(store, "a"))
        #expect(row.state == .retry)
        #expect(row.attempts == 0)
        #expect(row.nextAt == later)
        #expect(row.lastError == "retried by alice: bot re-added")
        #expect(try await store.deliveries(noticeID: "n1").count == 3, "the same rows, none added")
        let again = try await claim(store, at: later)
        #expect(again.map(\.groupID) == ["a"])
        #expect(again.first?.attempts == 1)
        #expect(try await verifies(store))
    }

    @Test(arguments: StoreKind.allCases)
    func retryRefusesANamedGroupThatIsNotDeadAndChangesNothing(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        try await settled(store)
        await #expect(throws: LedgerError.invalid("delivery of notice n1 to group b is sent, not dead: left as it is"))
        {
            try await store.retry(DeliverySelection(noticeID: "n1", groupIDs: ["a", "b"]), by: "x", note: "", at: now)
        }
        await #expect(throws: LedgerError.invalid("no delivery of notice n1 to group zz")) {
            try await store.retry(DeliverySelection(noticeID: "n1", groupIDs: ["zz"]), by: "x", note: "", at: now)
        }
        await #expect(throws: LedgerError.invalid("no notice n9 in the ledger")) {
            try await store.retry(DeliverySelection(noticeID: "n9"), by: "x", note: "", at: now)
        }
        #expect(try await state(store, "a")?.state == .dead)
        let named = try await store.retry(
            DeliverySelection(noticeID: "n1", groupIDs: ["a"]), by: "x", note: "", at: now)
        #expect(named.changed.map(\.groupID) == ["a"])
        #expect(try await verifies(store))
    }

    @Test(arguments: StoreKind.allCases)
    func cancelEndsUnsentDeliveriesButNotClaimedOnesWhichStillRecordTheirOutcome(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b", "c"]))
        let inFlight = try #require(try await claim(store, limit: 1).first)
        let result = try await store.cancel(DeliverySelection(noticeID: "n1"), by: "bob", note: "wrong text", at: now)
        #expect(Set(result.changed.map(\.groupID)) == Set(["a", "b", "c"]).subtracting([inFlight.groupID]))
        #expect(result.changed.allSatisfy { $0.state == .cancelled && $0.lastError == "cancelled by bob: wrong text" })
        #expect(result.unchanged.map(\.groupID) == [inFlight.groupID])
        #expect(result.unchanged.first?.state == .claimed)
        // Never claimed, and nothing is owed.
        #expect(try await claim(store, at: now.addingTimeInterval(3600)).isEmpty)
        let pending = try await store.pending(noticeID: "n1", now: now)
        #expect(pending.dueNow == 0 && pending.later == 0 && pending.claimed == 1)
        let lost = try await store.record([
            DeliveryOutcome(claim: inFlight, result: .sent, partsSent: 1, error: nil, at: now)
        ])
        #expect(lost.isEmpty, "the claim in flight was not fenced out")
        #expect(try await store.stateCounts(noticeID: "n1") == [.sent: 1, .cancelled: 2])
        #expect(try await store.deliveries(matching: DeliveryFilter(state: .cancelled)).count == 2)
        // Again: nothing left to cancel, and a named finished group is left as it is.
        let again = try await store.cancel(
            DeliverySelection(noticeID: "n1", groupIDs: [inFlight.groupID]), by: "bob", note: "", at: now)
        #expect(again.changed.isEmpty)
        #expect(again.unchanged.map(\.state) == [.sent])
        await #expect(throws: LedgerError.invalid("no delivery of notice n1 to group zz")) {
            try await store.cancel(
                DeliverySelection(noticeID: "n1", groupIDs: ["a", "zz"]), by: "x", note: "", at: now)
        }
        #expect(try await verifies(store))
    }

    /// Operators' actions are events in the chain, under their name.
    @Test func theOperatorsActionsAreLoggedUnderTheirName() async throws {
        defer { directory.remove() }
        let store = try await StoreKind.sqlite.open(in: directory)
        try await settled(store)
        _ = try await store.retry(DeliverySelection(noticeID: "n1"), by: "alice", note: "", at: now)
        _ = try await store.cancel(DeliverySelection(noticeID: "n1"), by: "bob", note: "", at: now)
        let queue = try DatabaseQueue(path: directory.file("ledger.sqlite"))
        defer { try? queue.close() }
        let events = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, actor FROM events WHERE kind IN ('retry', 'cancel') ORDER BY seq")
                .map { "\($0["kind"] as String) \($0["actor"] as String)" }
        }
        #expect(events == ["retry alice", "cancel bob"])
    }

    /// A ledger made before `cancelled` existed gains it: its rows are kept as they were and it still verifies.
    @Test func aLedgerFromBeforeCancelledMigratesAndVerifies() async throws {
        defer { directory.remove() }
        let path = directory.file("ledger.sqlite")
        let notice = Notice(id: "n1", title: "T", text: "不转账")
        let queue = try DatabaseQueue(path: path)
        try SQLiteLedgerStore.migrator.migrate(queue, upTo: "v3-schedule-firings")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO notices VALUES ('n1', 'T', '不转账', 0, ?, 'all', 'test', 1);
                    INSERT INTO deliveries (id, notice_id, group_id, group_name, sink, state, next_at, planned_at,
                        updated_at, last_error) VALUES ('d1', 'n1', 'a', '群a', 'wecom', 'dead', 1, 1, 2, 'errcode 93000'),
                        ('d2', 'n1', 'b', '群b', 'wecom', 'planned', 1, 1, 1, NULL);
                    """, arguments: [notice.contentHash])
        }
        // The event log adopts the rows, as an upgrade from that version does; then the table is rebuilt.
        try SQLiteLedgerStore.migrator.migrate(queue, upTo: "v6-partial-indexes")
        try queue.close()
        let store = try SQLiteLedgerStore(path: path)
        #expect(try await store.stateCounts(noticeID: "n1") == [.dead: 1, .planned: 1])
        #expect(try await verifies(store))
        _ = try await store.cancel(DeliverySelection(noticeID: "n1"), by: "x", note: "", at: now)
        _ = try await store.retry(DeliverySelection(noticeID: "n1"), by: "x", note: "", at: now)
        #expect(try await store.stateCounts(noticeID: "n1") == [.retry: 1, .cancelled: 1])
        #expect(try await verifies(store))
    }
}
