import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

@testable import Fanout

/// `kill -9` of a real `gridcast send` while WeCom has created its task and not yet answered: the next process finds
/// the task in WeCom's list and records it; no member ever gets a second task (docs/customer-groups.md, "Crashes").
@Suite("Customer groups: kill -9 between the create call and its record")
struct CustomerGroupCrashTests {
    @Test func aSendKilledRightAfterTheCreateCallLeavesExactlyOneTaskPerMember() async throws {
        let directory = try TemporaryDirectory("cg-crash")
        defer { directory.remove() }
        var groups: [Group] = []
        for (id, member) in [("cg-z1", "zhang"), ("cg-z2", "zhang"), ("cg-l1", "li")] {
            var group = Group(id: id, name: "居民群\(id)", sink: Group.customerGroupSink, url: "")
            group.app = "ls"
            group.owner = member
            group.chatID = "wr-" + id
            groups.append(group)
        }
        let app = WeComApp(id: "ls", corpID: "ww-lingshui", secret: "contactSecret-0001")
        // The first create call (zhang's, the first batch) is carried out and never answered.
        let server = try await EmulatorServer.start(
            groups: groups, wecomApps: [app], faults: FaultPlan(faults: ["ls/add_msg_template": [.doneThenHang]]))
        defer { Task { try? await server.stop() } }
        let ledger = directory.file("ledger.sqlite")
        let yaml = """
            ledger:
              path: \(ledger)
            wecom_apps:
              - id: ls
                corp_id: ww-lingshui
                secret: contactSecret-0001
                api: http://127.0.0.1:\(server.port)
                confirm_within: 2h
            groups:
            \(groups.map { "  - {id: \($0.id), name: \($0.name), sink: wecom-customer-group, app: ls, chat_id: \($0.chatID!), owner: \($0.owner!)}" }.joined(separator: "\n"))
            """
        let configPath = try directory.write("gridcast.yaml", yaml)
        let victim = try GridcastProcess.start(
            ["send", "--config", configPath, "--to", "all", "--id", "k9", "--text", "不转账，不汇款。"],
            environment: ["GRIDCAST_LOG_LEVEL": "warning"])
        let transport = CurlTransport()
        func tasks() async throws -> [[String: Any]] {
            let answer = try await transport.send(
                HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/_emulator/wecom/tasks")
            ).get()
            return (try JSONSerialization.jsonObject(with: Data(answer.body)) as? [[String: Any]]) ?? []
        }
        try await waitUntil { try await tasks().count == 1 }
        victim.kill()
        _ = await victim.exitStatus()

        // The restarted process, past the dead one's claim: it finds zhang's task and creates li's.
        let config = try ConfigLoader(catalog: SinkRegistry.standard).load(path: configPath)
        let store = try SQLiteLedgerStore(path: ledger)
        let clock = VirtualClock(start: Date().addingTimeInterval(200))
        let runner = MassTaskRunner(
            store: store, config: config, sessions: CustomerGroupSessions(transport: transport), clock: clock,
            leaseOwner: "restarted/1/1/1/x")
        _ = try await runner.runOnce()
        _ = try await runner.runOnce()
        let created = try await tasks()
        #expect(created.compactMap { $0["sender"] as? String }.sorted() == ["li", "zhang"], "one task per member")
        let states = try await store.deliveries(noticeID: "k9").map(\.state)
        #expect(states == [.awaitingConfirmation, .awaitingConfirmation, .awaitingConfirmation])
        await transport.shutdown()
    }
}
