import Emulator
import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Ledger
import Testing

/// `gridcast ledger retry|resolve|cancel` and `send`'s summary, through the real binary.
extension CLITests {
    func ledger(_ setup: Setup, _ arguments: [String]) async throws -> GridcastProcess.Result {
        try await GridcastProcess.run(
            ["ledger"] + [arguments[0], "--config", setup.configPath] + arguments.dropFirst(),
            environment: ["GRIDCAST_LOG_LEVEL": "warning", "SUDO_USER": "wang.li"])
    }

    @Test func aDeadDeliveryIsRetriedOnTheSameRowAndTheNoticeCountsOnce() async throws {
        let setup = try await setup(groups: 3, faults: ["g0001": [.permanent]])
        let send = ["send", "--config", setup.configPath, "--to", "all", "--id", "warn", "--text", "不转账"]
        let first = try await setup.run(send)
        #expect(first.status == 1)
        #expect(first.stdout.contains("1 group dead: gridcast ledger retry --notice warn"))
        let rerun = try await setup.run(send)
        #expect(rerun.status == 1)
        #expect(!rerun.stdout.contains("delivered"), "\(rerun.stdout)")
        #expect(rerun.stdout.contains("1 group dead: gridcast ledger retry --notice warn"))

        let unknown = try await ledger(setup, ["retry", "--notice", "nope"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("--notice nope: no such notice"))
        let notDead = try await ledger(setup, ["retry", "--notice", "warn", "--group", "g0000"])
        #expect(notDead.status == 2)
        #expect(notDead.stderr.contains("group g0000 is sent, not dead"))
        let noGroup = try await ledger(setup, ["retry", "--notice", "warn", "--group", "g9999"])
        #expect(noGroup.status == 2)
        #expect(noGroup.stderr.contains("group g9999"))
        let badState = try await ledger(setup, ["retry", "--notice", "warn", "--state", "sent"])
        #expect(badState.status == 2)

        let retry = try await ledger(setup, ["retry", "--notice", "warn", "--state", "dead", "--note", "bot re-added"])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stdout.contains("notice warn: 1 delivery due again: g0001"))
        let again = try await setup.run(send)
        #expect(again.status == 0, "\(again.stdout)")
        #expect(again.stdout.contains("3 of 3 groups sent, 0 dead, 0 in_doubt"))
        #expect(try await setup.receivedPerGroup() == ["g0000": 1, "g0001": 1, "g0002": 1])

        let json = try await setup.run(["report", "daily", "--config", setup.configPath, "--format", "json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["notices"] as? Int == 1)
        #expect(report?["deliveries"] as? Int == 3)
        let queue = try DatabaseQueue(path: setup.ledgerPath)
        let actors = try await queue.read { db in
            try String.fetchAll(db, sql: "SELECT actor FROM events WHERE kind = 'retry'")
        }
        try queue.close()
        #expect(actors == ["wang.li"])
        #expect(try await ledger(setup, ["list", "--notice", "warn"]).status == 0)
        let verify = try await GridcastProcess.run(["ledger", "verify", "--config", setup.configPath])
        #expect(verify.status == 0, "\(verify.stdout)")
        try await setup.close()
    }

    @Test func inDoubtDeliveriesAreResolvedAllAtOnce() async throws {
        let setup = try await setup(groups: 3, faults: ["g0000": [.reset], "g0001": [.reset]])
        let send = ["send", "--config", setup.configPath, "--to", "all", "--id", "doubt", "--text", "不回拨"]
        let first = try await setup.run(send)
        #expect(first.status == 1)
        #expect(first.stdout.contains("--all-in-doubt"))

        let neither = try await ledger(setup, ["resolve", "--notice", "doubt", "--as", "sent"])
        #expect(neither.status == 2)
        let mixed = try await ledger(
            setup, ["resolve", "--notice", "doubt", "--group", "g0000", "--group", "g0002", "--as", "sent"])
        #expect(mixed.status == 2)
        #expect(mixed.stderr.contains("--group g0002"))
        let store = try SQLiteLedgerStore(path: setup.ledgerPath)
        #expect(try await store.stateCounts(noticeID: "doubt")[.inDoubt] == 2, "nothing was resolved")

        let all = try await ledger(
            setup, ["resolve", "--notice", "doubt", "--all-in-doubt", "--as", "resend", "--note", "not in the chat"])
        #expect(all.status == 0, "\(all.stderr)")
        let rows = try await store.deliveries(noticeID: "doubt").filter { $0.groupID != "g0002" }
        #expect(
            rows.allSatisfy { $0.state == .retry && $0.lastError == "resolved as resend by wang.li: not in the chat" })
        let again = try await setup.run(send)
        #expect(again.stdout.contains("3 of 3 groups sent, 0 dead, 0 in_doubt"), "\(again.stdout)")
        let none = try await ledger(setup, ["resolve", "--notice", "doubt", "--all-in-doubt", "--as", "sent"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("no in_doubt deliveries"))
        try await setup.close()
    }

    @Test func cancelEndsWhatIsUnsentAndListShowsIt() async throws {
        let setup = try await setup(groups: 3)
        let store = try SQLiteLedgerStore(path: setup.ledgerPath)
        _ = try await store.plan(
            Plan(
                notice: .init(id: "later", title: "T", text: "不转账"), selector: "all", origin: "test",
                targets: setup.groups.map { PlanTarget(groupID: $0.id, groupName: $0.name, sink: $0.sink) },
                now: Date()))
        let unknownGroup = try await ledger(setup, ["cancel", "--notice", "later", "--group", "g9999"])
        #expect(unknownGroup.status == 2)
        #expect(unknownGroup.stderr.contains("group g9999"))
        let one = try await ledger(setup, ["cancel", "--notice", "later", "--group", "g0002", "--note", "wrong group"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.contains("1 delivery cancelled: g0002"))
        let listed = try await ledger(setup, ["list", "--state", "cancelled", "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.map { $0["group_id"] as? String } == ["g0002"])
        let planned = try await ledger(setup, ["list", "--state", "planned", "--format", "json"])
        let open = try JSONSerialization.jsonObject(with: Data(planned.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(open.allSatisfy { ($0["next_at"] as? String)?.isEmpty == false })

        let send = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--id", "later", "--text", "不转账", "--title", "T",
        ])
        #expect(send.status == 0, "\(send.stdout)")
        #expect(send.stdout.contains("2 of 3 groups sent, 0 dead, 0 in_doubt, 1 cancelled"))
        #expect(try await setup.receivedPerGroup() == ["g0000": 1, "g0001": 1])
        try await setup.close()
    }

    @Test func everyDeadAndInDoubtDeliveryIsLoggedAtWarningLevelWithoutTheKey() async throws {
        let setup = try await setup(groups: 3, faults: ["g0001": [.permanent], "g0002": [.reset]])
        let result = try await setup.run(
            ["send", "--config", setup.configPath, "--to", "all", "--id", "logged", "--title", "今日提醒", "--text", "不转账"])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").filter { $0.contains("level=warning") }
        let dead = try #require(lines.first { $0.contains("msg=\"delivery dead\"") }, "\(result.stderr)")
        #expect(dead.contains("group=g0001") && dead.contains("group_name=网格群1") && dead.contains("notice=logged"))
        #expect(dead.contains("title=今日提醒") && dead.contains("errcode 93000"))
        let doubt = try #require(lines.first { $0.contains("msg=\"delivery in_doubt\"") }, "\(result.stderr)")
        #expect(doubt.contains("group=g0002") && doubt.contains("group_name=网格群2"))
        #expect(!result.stderr.contains("key-g000"), "no webhook key in the log")
        try await setup.close()
    }
}
