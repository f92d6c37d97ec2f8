import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Scheduling
import Testing

@Suite("Ledger store contract: deliveries held by quiet hours are re-timed when the window changes")
struct HeldRetimeTests {
    let directory: TemporaryDirectory
    /// 22:00 in Shanghai.
    let now = Date(timeIntervalSince1970: 1_795_010_400)
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    init() throws {
        directory = try TemporaryDirectory("held-retime")
    }

    func plan(_ id: String, urgent: Bool = false, groups: [String], due: Date) -> Plan {
        Plan(
            notice: Notice(id: id, title: "T", text: "不转账 \(id)", urgent: urgent), selector: "all", origin: "test",
            targets: groups.map { PlanTarget(groupID: $0, groupName: "群\($0)", sink: "wecom", notBefore: due) },
            now: now
        )
    }

    func nextAt(_ store: any LedgerStore, _ notice: String) async throws -> [Date?] {
        try await store.deliveries(noticeID: notice).map(\.nextAt)
    }

    @Test(arguments: StoreKind.allCases)
    func aNewWindowMovesOnlyTheHeldRowsOfNonUrgentNotices(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        let old = try QuietHours(parsing: "21:30-07:30")
        let held = old.release(now, in: shanghai)
        _ = try await store.plan(plan("held", groups: ["a", "b"], due: held))
        _ = try await store.plan(plan("due", groups: ["c"], due: now))
        // Urgent notices are never held; one planned for later by hand stays where it is.
        _ = try await store.plan(plan("urgent", urgent: true, groups: ["d"], due: held))
        let head = try await store.head()

        // The window now ends at 23:00 the same evening.
        let shorter = try QuietHours(parsing: "21:30-23:00")
        let moved = try await store.retimeHeld(now: now, by: "reload") { shorter.release($0, in: shanghai) }
        #expect(moved == 2)
        let end = now.addingTimeInterval(3600)
        #expect(try await nextAt(store, "held") == [end, end])
        #expect(try await nextAt(store, "due") == [now])
        #expect(try await nextAt(store, "urgent") == [held])

        // No window at all: held rows are due now. The same change again moves nothing and logs nothing.
        #expect(try await store.retimeHeld(now: now, by: "reload") { $0 } == 2)
        #expect(try await nextAt(store, "held") == [now, now])
        let afterFirst = try await store.head()
        #expect(try await store.retimeHeld(now: now, by: "reload") { $0 } == 0)
        #expect(try await store.head() == afterFirst)
        #expect(afterFirst != head, "the moves are in the event log")
        guard case .ok = try await store.verify(checkpoint: nil) else {
            Issue.record("the ledger does not verify after re-timing")
            return
        }
    }
}
