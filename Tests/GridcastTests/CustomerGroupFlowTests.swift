import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

@testable import Fanout

/// Customer groups end to end: the planner, a real SQLite ledger, the task runner and libcurl against the emulated
/// WeCom customer-contact API, with the members' taps played by the emulator's control endpoint and time by a
/// virtual clock the emulator shares (docs/customer-groups.md).
@Suite("Customer groups: mass-message tasks from plan to WeCom's per-group results", .serialized)
struct CustomerGroupFlowTests {
    /// Member zhang owns three groups (the third already had its daily mass message), li two.
    static let members = ["cgA1": "zhang", "cgA2": "zhang", "cgA3": "zhang", "cgB1": "li", "cgB2": "li"]

    struct Rig {
        let server: EmulatorServer
        let transport: CurlTransport
        let store: any LedgerStore
        let config: GridcastConfig
        let clock: VirtualClock
        let directory: TemporaryDirectory

        static func start(faults: [String: [FaultPlan.Fault]] = [:]) async throws -> Rig {
            let directory = try TemporaryDirectory("customer-groups")
            let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_796_000_000))
            var groups: [Group] = []
            for (id, member) in CustomerGroupFlowTests.members.sorted(by: { $0.key < $1.key }) {
                var group = Group(id: id, name: "居民群\(id)", sink: Group.customerGroupSink, url: "")
                group.app = "ls"
                group.owner = member
                group.chatID = "wr" + id
                groups.append(group)
            }
            func app(port: Int) -> WeComApp {
                WeComApp(
                    id: "ls", corpID: "ww-lingshui", secret: "contactSecret-0001", api: "http://127.0.0.1:\(port)",
                    quota: .perDay(1), confirmDeadline: .within(.seconds(7200)), remindAfter: [.seconds(1800)],
                    poll: .seconds(300))
            }
            let server = try await EmulatorServer.start(
                groups: groups, wecomApps: [app(port: 0)], faults: FaultPlan(faults: faults),
                clock: { clock.now() })
            var config = TestGroups.config(groups, ledger: directory.file("ledger.sqlite"))
            config.wecomApps = [app(port: server.port)]
            return Rig(
                server: server, transport: CurlTransport(), store: try await StoreKind.sqlite.open(in: directory),
                config: config, clock: clock, directory: directory)
        }

        func runner(_ owner: String = "host/a/1/1/x", sessions: CustomerGroupSessions) -> MassTaskRunner {
            MassTaskRunner(store: store, config: config, sessions: sessions, clock: clock, leaseOwner: owner)
        }

        func control(_ path: String) async throws {
            let answer = try await transport.send(
                HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)\(path)", timeout: .seconds(5))
            ).get()
            #expect(answer.status == 200, "\(path): \(String(decoding: answer.body, as: UTF8.self))")
        }

        /// The emulator's tasks, as `GET /_emulator/wecom/tasks` lists them.
        func tasks() async throws -> [[String: Any]] {
            let answer = try await transport.send(
                HTTPRequest(
                    method: "GET", url: "http://127.0.0.1:\(server.port)/_emulator/wecom/tasks", timeout: .seconds(5))
            ).get()
            let parsed = try JSONSerialization.jsonObject(with: Data(answer.body))
            return (parsed as? [[String: Any]]) ?? ((parsed as? [String: Any])?["tasks"] as? [[String: Any]]) ?? []
        }

        func states(_ notice: String) async throws -> [String: DeliveryState] {
            Dictionary(
                uniqueKeysWithValues: try await store.deliveries(noticeID: notice).map { ($0.groupID, $0.state) })
        }

        func advance(_ seconds: TimeInterval) async throws {
            try await clock.sleep(until: clock.now().addingTimeInterval(seconds))
        }

        func plan(_ notice: Notice) async throws {
            let plan = try Planner(config: config, sinks: .standard).plan(
                notice, to: try Selector(parsing: "all"), origin: "test", now: clock.now())
            _ = try await store.plan(plan)
        }

        func close() async throws {
            await transport.shutdown()
            try await server.stop()
            directory.remove()
        }
    }

    @Test func oneOwnerConfirmsTheOtherDoesntAndTheLedgerRecordsOnlyWhatWeComReports() async throws {
        let rig = try await Rig.start()
        let notice = RichFixtures.notice(id: "cg")
        try await rig.plan(notice)
        let sessions = CustomerGroupSessions(transport: rig.transport)
        // One task per member, the poster uploaded once and attached with the card.
        #expect(try await rig.runner(sessions: sessions).runOnce() == 2)
        #expect(Set(try await rig.states("cg").values) == [.awaitingConfirmation])
        var tasks = try await rig.tasks()
        #expect(tasks.count == 2)
        #expect(Set(tasks.compactMap { $0["sender"] as? String }) == ["zhang", "li"])
        #expect(try await rig.server.poster(sha256: notice.poster!.sha256) != nil)

        // cgA3 had its day's mass message by hand; zhang taps "send" a minute later.
        try await rig.control("/_emulator/wecom/sent-by-hand?chat_id=wrcgA3")
        try await rig.advance(60)
        let confirmedAt = rig.clock.now()
        try await rig.control("/_emulator/wecom/confirm?owner=zhang")
        try await rig.advance(61)
        _ = try await rig.runner(sessions: sessions).runOnce()
        var states = try await rig.states("cg")
        #expect(states["cgA1"] == .sent && states["cgA2"] == .sent)
        #expect(states["cgA3"] == .quotaRefused)
        #expect(states["cgB1"] == .awaitingConfirmation && states["cgB2"] == .awaitingConfirmation)
        // What the residents saw: the text with the poster and the card, in the two groups that got it.
        let posted = try await rig.server.received().filter { $0.sink == Group.customerGroupSink }
        #expect(posted.map(\.group).sorted() == ["cgA1", "cgA2"])
        #expect(
            posted.allSatisfy { $0.image?.sha256 == notice.poster!.sha256 && $0.card?.url == RichFixtures.card.url })
        let sentAt = try await rig.store.deliveries(noticeID: "cg").first { $0.groupID == "cgA1" }?.sentAt
        #expect(sentAt.map { abs($0.timeIntervalSince(confirmedAt)) < 1 } == true, "WeCom's send time is recorded")

        // li is reminded after 30 minutes, and the task is cancelled at the two-hour deadline.
        try await rig.advance(1800)
        _ = try await rig.runner(sessions: sessions).runOnce()
        try await rig.advance(7200)
        _ = try await rig.runner(sessions: sessions).runOnce()
        states = try await rig.states("cg")
        #expect(states["cgB1"] == .expired && states["cgB2"] == .expired)
        tasks = try await rig.tasks()
        let li = try #require(tasks.first { $0["sender"] as? String == "li" })
        #expect(li["cancelled"] as? Bool == true)
        #expect((li["reminders"] as? [Any])?.count == 1, "one reminder, at 30 minutes")
        let counts = try await rig.store.stateCounts(noticeID: "cg")
        #expect(counts[.sent] == 2)
        guard case .ok = try await rig.store.verify(checkpoint: nil) else {
            Issue.record("the ledger does not verify")
            return
        }
        try await rig.close()
    }

    @Test func aLostCreateAnswerIsFoundInWeComsListAndNeverMakesASecondTask() async throws {
        // The create call is carried out and its answer lost, as when the process dies right after it.
        let rig = try await Rig.start(faults: ["ls/add_msg_template": [.lostAnswer]])
        try await rig.plan(Notice(id: "lost", title: "预警", text: "不转账，不汇款。"))
        let first = CustomerGroupSessions(transport: rig.transport)
        _ = try await rig.runner("host/a/1/1/x", sessions: first).runOnce()
        #expect(try await rig.tasks().count == 2)
        #expect(Set(try await rig.states("lost").values) == [.claimed, .awaitingConfirmation])

        // Another process (a restart) takes the interrupted task over once its claim has run out.
        try await rig.advance(120)
        _ = try await rig.runner("host/b/2/2/y", sessions: CustomerGroupSessions(transport: rig.transport)).runOnce()
        #expect(Set(try await rig.states("lost").values) == [.awaitingConfirmation])
        #expect(try await rig.tasks().count == 2, "exactly one task per member")

        try await rig.control("/_emulator/wecom/confirm?owner=zhang")
        try await rig.control("/_emulator/wecom/confirm?owner=li")
        try await rig.advance(61)
        _ = try await rig.runner("host/b/2/2/y", sessions: CustomerGroupSessions(transport: rig.transport)).runOnce()
        let states = try await rig.states("lost")
        #expect(states["cgA1"] == .sent && states["cgB2"] == .sent)
        try await rig.close()
    }

    @Test func aTokenThatExpiredMidRunIsRenewedAndAGroupTheMemberLeftIsNotDelivered() async throws {
        let rig = try await Rig.start()
        try await rig.plan(Notice(id: "tok", title: "预警", text: "陌生来电要警惕。"))
        let sessions = CustomerGroupSessions(transport: rig.transport)
        _ = try await rig.runner(sessions: sessions).runOnce()
        try await rig.control("/_emulator/wecom/expire-tokens")
        try await rig.control("/_emulator/wecom/leave?chat_id=wrcgA2")
        try await rig.control("/_emulator/wecom/confirm?owner=zhang")
        try await rig.advance(61)
        _ = try await rig.runner(sessions: sessions).runOnce()
        let states = try await rig.states("tok")
        #expect(states["cgA1"] == .sent)
        #expect(states["cgA2"] == .notDelivered)
        #expect(states["cgB1"] == .awaitingConfirmation)
        try await rig.close()
    }

    @Test func aGroupThatHadItsQuotaIsRefusedWhenPlannedAndTheOthersStillGetTheNotice() async throws {
        let rig = try await Rig.start()
        let sessions = CustomerGroupSessions(transport: rig.transport)
        func plan(_ id: String, to selector: String) async throws -> PlanResult {
            let plan = try Planner(config: rig.config, sinks: .standard).plan(
                Notice(id: id, title: "预警", text: "\(id)：不转账。", urgent: true), to: try Selector(parsing: selector),
                origin: "test", now: rig.clock.now())
            return try await rig.store.plan(plan)
        }
        // Today's one mass message (quota 1/day) goes to zhang's first group only.
        #expect(try await plan("morning", to: "group:cgA1").quotaRefused.isEmpty)
        _ = try await rig.runner(sessions: sessions).runOnce()
        let urgent = try await plan("urgent", to: "all")
        #expect(Array(urgent.quotaRefused.keys) == ["cgA1"])
        #expect(urgent.quotaRefused["cgA1"]?.contains("quota 1/day") == true)
        let states = try await rig.states("urgent")
        #expect(states["cgA1"] == .quotaRefused)
        #expect(states.filter { $0.key != "cgA1" }.values.allSatisfy { $0 == .planned })
        _ = try await rig.runner(sessions: sessions).runOnce()
        #expect(try await rig.tasks().count == 3, "zhang's second task leaves cgA1 out; li gets one")
        // zhang confirms today; the next day cgA1 has its quota again (a task still awaiting its member would count).
        try await rig.control("/_emulator/wecom/confirm?owner=zhang")
        try await rig.advance(61)
        _ = try await rig.runner(sessions: sessions).runOnce()
        #expect(try await rig.states("morning")["cgA1"] == .sent)
        try await rig.advance(86_400)
        #expect(try await plan("tomorrow", to: "group:cgA1").quotaRefused.isEmpty)
        try await rig.close()
    }

    @Test func aCancellationWeComRefusedLeavesTheGroupsWaitingUntilItIsCancelled() async throws {
        let rig = try await Rig.start(faults: ["ls/cancel_groupmsg_send": [.busy]])
        try await rig.plan(Notice(id: "late", title: "预警", text: "不点陌生链接。"))
        let sessions = CustomerGroupSessions(transport: rig.transport)
        _ = try await rig.runner(sessions: sessions).runOnce()
        try await rig.advance(7300)
        // Past the deadline, WeCom answers the first cancellation "busy": that member could still send it, so their
        // groups keep waiting; the other member's task is cancelled and its groups expire.
        _ = try await rig.runner(sessions: sessions).runOnce()
        let rows = try await rig.store.deliveries(noticeID: "late")
        let waiting = Set(
            rows.filter { $0.state == .awaitingConfirmation }.map { CustomerGroupFlowTests.members[$0.groupID] })
        #expect(waiting.count == 1, "\(rows.map { ($0.groupID, $0.state) })")
        #expect(Set(rows.map(\.state)) == [.awaitingConfirmation, .expired])
        try await rig.advance(61)
        _ = try await rig.runner(sessions: sessions).runOnce()
        #expect(Set(try await rig.states("late").values) == [.expired])
        #expect(try await rig.tasks().allSatisfy { $0["cancelled"] as? Bool == true })
        try await rig.close()
    }
}
