import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing

/// The `gridcast` binary as an operator runs it: exit codes, output, crashes and concurrent runs.
@Suite("gridcast command line", .serialized)
struct CLITests {
    /// An emulator, a scratch directory and a config file for `count` WeCom groups.
    struct Setup {
        let server: EmulatorServer
        let directory: TemporaryDirectory
        let configPath: String
        let groups: [Group]

        var ledgerPath: String { directory.file("ledger.sqlite") }

        func run(_ arguments: [String]) async throws -> GridcastProcess.Result {
            try await GridcastProcess.run(arguments, environment: ["GRIDCAST_LOG_LEVEL": "warning"])
        }

        func close() async throws {
            try await server.stop()
            directory.remove()
        }

        func receivedPerGroup() async throws -> [String: Int] {
            Dictionary(try await server.received().map { ($0.group, 1) }, uniquingKeysWith: +)
        }
    }

    func setup(
        groups count: Int,
        concurrency: Int = 16,
        delay: Duration = .zero,
        faults: [String: [FaultPlan.Fault]] = [:]
    ) async throws -> Setup {
        let directory = try TemporaryDirectory("cli")
        let server = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), faults: FaultPlan(faults: faults), enforceRateLimits: false,
            responseDelay: delay
        )
        let groups = TestGroups.wecom(count, port: server.port)
        let yaml = TestGroups.yaml(groups, ledger: directory.file("ledger.sqlite"), concurrency: concurrency)
        let path = try directory.write("gridcast.yaml", yaml)
        return Setup(server: server, directory: directory, configPath: path, groups: groups)
    }

    @Test func checkSummarizesAValidConfig() async throws {
        let setup = try await setup(groups: 4)
        let result = try await setup.run(["check", "--config", setup.configPath])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("ok: 4 groups (wecom 4); tags: even 2, odd 2;"))
        try await setup.close()
    }

    @Test func checkListsEveryProblemAndExits2() async throws {
        let directory = try TemporaryDirectory("cli")
        let path = try directory.write(
            "bad.yaml",
            """
            dispatch:
              concurency: 4
            groups:
              - id: a
                sink: wecom
                url: http://example.com/cgi-bin/webhook/send?key=abcdef0123456789abcdef
            """
        )
        let result = try await GridcastProcess.run(["check", "--config", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path):2:3: dispatch: unknown key 'concurency' (did you mean 'concurrency'?)"))
        #expect(result.stderr.contains("\(path):6:10: group a: plain http:// is allowed only to loopback addresses"))
        #expect(!result.stderr.contains("abcdef0123456789abcdef"))
        directory.remove()
    }

    @Test func usageErrorsExit2() async throws {
        let setup = try await setup(groups: 2)
        let both = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--text", "x", "--file", "y",
        ])
        #expect(both.status == 2)
        let unknownGroup = try await setup.run([
            "send", "--config", setup.configPath, "--to", "group:nobody", "--text", "x",
        ])
        #expect(unknownGroup.status == 2)
        #expect(unknownGroup.stderr.contains("selector names unknown group 'nobody'"))
        let badDate = try await setup.run(["report", "daily", "--config", setup.configPath, "--date", "2026-02-30"])
        #expect(badDate.status == 2)
        #expect(try await setup.server.requestCount() == 0)
        try await setup.close()
    }

    @Test func sendDeliversOnceAndASecondRunSendsNothing() async throws {
        let setup = try await setup(groups: 200)
        let send = [
            "send", "--config", setup.configPath, "--to", "all", "--title", "每日反诈提醒", "--text", "不回拨、不轻信、不点击、不透露、不转账",
        ]
        let first = try await setup.run(send)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("200 of 200 groups sent, 0 dead, 0 in_doubt"))
        let second = try await setup.run(send)
        #expect(second.status == 0)
        #expect(second.stdout.contains("already delivered earlier; nothing to send"))
        #expect(try await setup.server.requestCount() == 200)
        #expect(try await setup.receivedPerGroup().values.allSatisfy { $0 == 1 })

        let conflict = try await setup.run(send.dropLast(2) + ["--id", first.noticeID, "--text", "别的内容"])
        #expect(conflict.status == 2)
        #expect(conflict.stderr.contains("already exists with different content"))

        let json = try await setup.run(["report", "daily", "--config", setup.configPath, "--format", "json"])
        #expect(json.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["notices"] as? Int == 1)
        #expect(report?["groups"] as? Int == 200)
        #expect(report?["deliveries"] as? Int == 200)
        #expect(report?["sent"] as? Int == 200)
        #expect(report?["dead"] as? Int == 0)
        #expect(report?["in_doubt"] as? Int == 0)
        #expect((report?["by_group"] as? [Any])?.count == 200)

        let table = try await setup.run(["report", "daily", "--config", setup.configPath])
        #expect(table.stdout.hasSuffix("：共发布反诈信息 1 条，转发 200 个群，累计投递 200 次（成功 200 次，失败 0 次，待核实 0 次）\n"))
        let csv = try await setup.run(["report", "daily", "--config", setup.configPath, "--format", "csv"])
        #expect(csv.stdout.split(separator: "\n").count == 202)
        try await setup.close()
    }

    @Test func aPermanentFailureEndsDeadAndExits1() async throws {
        let setup = try await setup(groups: 3, faults: ["g0001": [.permanent]])
        let result = try await setup.run(["send", "--config", setup.configPath, "--to", "all", "--text", "不转账"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("2 of 3 groups sent, 1 dead, 0 in_doubt"))
        #expect(result.stdout.contains("dead  g0001  errcode 93000: invalid webhook url"))
        #expect(try await setup.server.requestCount() == 3)
        try await setup.close()
    }

    /// One grapheme (a letter under 1,500 combining accents: 3,001 bytes) can't be split, and WeCom takes 2,048
    /// bytes: planning refuses it, naming the group and the platform, instead of sending it to fail with 40058.
    @Test func aGraphemeLongerThanThePlatformsLimitIsRefusedWhenPlanned() async throws {
        let setup = try await setup(groups: 2)
        let grapheme = "e" + String(repeating: "\u{0301}", count: 1500)
        #expect(grapheme.count == 1)
        let result = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--id", "zalgo", "--text", "注意：" + grapheme,
        ])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("group g0000"), "\(result.stderr)")
        #expect(result.stderr.contains("wecom"), "\(result.stderr)")
        #expect(result.stderr.contains("2048 bytes"), "\(result.stderr)")
        #expect(try await setup.server.requestCount() == 0)
        let listing = try await setup.run(["ledger", "list", "--config", setup.configPath, "--format", "csv"])
        #expect(!listing.stdout.contains("zalgo"), "nothing was planned: \(listing.stdout)")
        try await setup.close()
    }

    @Test func aListingIsWrittenPageByPageAndGoesOnAfterTheLastRowShown() async throws {
        let setup = try await setup(groups: 12)
        let list = ["ledger", "list", "--config", setup.configPath]
        let sent = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--id", "page-me", "--text", "不转账",
        ])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        let whole = try await setup.run(list + ["--format", "jsonl"])
        let lines = whole.stdout.split(separator: "\n")
        #expect(lines.count == 12)
        let groups = try lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["group_id"] as? String
        }
        #expect(groups == (0..<12).map { String(format: "g%04d", $0) })
        let first = try await setup.run(list + ["--format", "jsonl", "--limit", "5"])
        let rest = try await setup.run(list + ["--format", "jsonl", "--after", "page-me/\(groups[4] ?? "")"])
        #expect(first.stdout.split(separator: "\n").count == 5)
        #expect(first.stdout + rest.stdout == whole.stdout)
        let array = try await setup.run(list + ["--format", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(array.stdout.utf8)) as? [Any])?.count == 12)
        let csv = try await setup.run(list + ["--format", "csv", "--limit", "3", "--after", "page-me/g0008"])
        #expect(
            csv.stdout.split(separator: "\n").dropFirst().map {
                $0.split(separator: ",", omittingEmptySubsequences: false)[2]
            }
                == ["g0009", "g0010", "g0011"])
        let unknown = try await setup.run(list + ["--after", "page-me/nobody"])
        #expect(
            unknown.status == 2 && unknown.stderr.contains("--after: no delivery of 'page-me/nobody'"),
            "\(unknown.stderr)")
        let shapeless = try await setup.run(list + ["--after", "page-me"])
        #expect(shapeless.status == 2 && shapeless.stderr.contains("NOTICE/GROUP"), "\(shapeless.stderr)")
        try await setup.close()
    }

    @Test func aYearAndAnyRunOfDaysAreReportedWithTheDaysFigures() async throws {
        let setup = try await setup(groups: 4)
        let sent = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--id", "year-1", "--text", "不转账",
        ])
        #expect(sent.status == 0, "\(sent.stderr)")
        func json(_ arguments: [String]) async throws -> [String: Any] {
            let result = try await setup.run(
                ["report"] + arguments + ["--config", setup.configPath, "--format", "json"])
            #expect(result.status == 0, "\(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }
        let daily = try await json(["daily"])
        let today = try #require(daily["date"] as? String)
        let yearly = try await json(["yearly"])
        #expect(yearly["period"] as? String == "year")
        #expect(
            yearly["from"] as? String == "\(today.prefix(4))-01-01"
                && yearly["to"] as? String == "\(today.prefix(4))-12-31")
        #expect([365, 366].contains((yearly["by_day"] as? [Any])?.count ?? 0))
        let range = try await json(["range", "--since", today, "--until", today])
        for report in [yearly, range] {
            #expect(report["deliveries"] as? Int == 4 && report["sent"] as? Int == 4 && report["groups"] as? Int == 4)
        }
        let table = try await setup.run(["report", "yearly", "--config", setup.configPath])
        #expect(table.stdout.contains("\(today.prefix(4))年：共发布反诈信息 1 条，转发 4 个群"), "\(table.stdout)")
        let backwards = try await setup.run([
            "report", "range", "--config", setup.configPath, "--since", "2026-03-02", "--until", "2026-03-01",
        ])
        #expect(backwards.status == 2 && backwards.stderr.contains("comes before --since"), "\(backwards.stderr)")
        try await setup.close()
    }

    @Test func twoConcurrentSendsDeliverOncePerGroup() async throws {
        let setup = try await setup(groups: 300, concurrency: 8, delay: .milliseconds(2))
        let arguments = [
            "send", "--config", setup.configPath, "--to", "all", "--id", "same-notice", "--text", "不点击陌生链接",
        ]
        let one = try GridcastProcess.start(arguments)
        let two = try GridcastProcess.start(arguments)
        let (a, b) = (try await one.wait(), try await two.wait())
        #expect(a.status == 0, "\(a.stdout)\(a.stderr)")
        #expect(b.status == 0, "\(b.stdout)\(b.stderr)")
        let perGroup = try await setup.receivedPerGroup()
        #expect(perGroup.count == 300)
        #expect(perGroup.values.allSatisfy { $0 == 1 })
        #expect(try await setup.server.requestCount() == 300)
        try await setup.close()
    }

    @Test func killDashNineMidFanOutThenRerunLeavesNoDuplicateAndListsTheUnconfirmed() async throws {
        let concurrency = 8
        let setup = try await setup(groups: 400, concurrency: concurrency, delay: .milliseconds(20))
        let arguments = [
            "send", "--config", setup.configPath, "--to", "all", "--id", "crash-notice", "--text", "不透露验证码",
        ]
        let victim = try GridcastProcess.start(arguments)
        try await waitUntil { try await setup.server.received().count >= 80 }
        victim.kill()
        _ = try await victim.wait()

        let rerun = try await setup.run(arguments)
        #expect(rerun.status == 1, "in_doubt deliveries make the re-run exit 1")

        let store = try SQLiteLedgerStore(path: setup.ledgerPath)
        let rows = try await store.deliveries(noticeID: "crash-notice")
        let perGroup = try await setup.receivedPerGroup()
        #expect(rows.count == 400)
        #expect(perGroup.values.allSatisfy { $0 == 1 }, "no group may get the notice twice")
        let inDoubt = rows.filter { $0.state == .inDoubt }
        #expect(rows.allSatisfy { $0.state == .sent || $0.state == .inDoubt })
        for row in rows where row.state == .sent {
            #expect(perGroup[row.groupID] == 1, "sent means received: \(row.groupID)")
        }
        // Only what was on the wire or about to be is in doubt: the requests in flight and the claims queued right
        // behind them, at most twice the concurrency.
        #expect(!inDoubt.isEmpty)
        #expect(inDoubt.count <= 2 * concurrency)
        // The re-run took the dead process's claims over at once instead of waiting for their leases.
        #expect(inDoubt.allSatisfy { $0.lastError == "outcome unknown: the process holding the claim died" })
        #expect(rerun.stdout.contains("\(400 - inDoubt.count) of 400 groups sent, 0 dead, \(inDoubt.count) in_doubt"))
        try await setup.close()
    }
}

extension CLITests {
    @Test func sigtermStopsClaimingFinishesInFlightAndLeavesNothingInDoubt() async throws {
        let setup = try await setup(groups: 300, concurrency: 8, delay: .milliseconds(20))
        let arguments = ["send", "--config", setup.configPath, "--to", "all", "--id", "stop-notice", "--text", "不转账"]
        let run = try GridcastProcess.start(arguments)
        try await waitUntil { try await setup.server.received().count >= 40 }
        run.terminate()
        let stopped = try await run.wait()
        #expect(stopped.status == 1)
        #expect(stopped.stdout.contains("run the same command again to continue"))
        let store = try SQLiteLedgerStore(path: setup.ledgerPath)
        let rows = try await store.deliveries(noticeID: "stop-notice")
        #expect(
            rows.allSatisfy { $0.state == .sent || $0.state == .planned },
            "a clean stop leaves nothing claimed or in doubt")
        let received = try await setup.receivedPerGroup()
        #expect(Set(rows.filter { $0.state == .sent }.map(\.groupID)) == Set(received.keys))

        let resumed = try await setup.run(arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let perGroup = try await setup.receivedPerGroup()
        #expect(perGroup.count == 300)
        #expect(perGroup.values.allSatisfy { $0 == 1 })
        try await setup.close()
    }
}

extension CLITests {
    @Test func killDashNineDuringMultiPartDeliveriesNeverRepeatsAPart() async throws {
        let concurrency = 4
        let setup = try await setup(groups: 40, concurrency: concurrency, delay: .milliseconds(15))
        let text = try setup.directory.write("long.md", DispatcherTests.longText)
        let arguments = ["send", "--config", setup.configPath, "--to", "all", "--id", "long-notice", "--file", text]
        let victim = try GridcastProcess.start(arguments)
        try await waitUntil { try await setup.server.received().count >= 30 }
        victim.kill()
        _ = try await victim.wait()
        _ = try await setup.run(arguments)

        let received = try await setup.server.received()
        let perPart = Dictionary(received.map { ("\($0.group) \($0.text.prefix(6))", 1) }, uniquingKeysWith: +)
        #expect(perPart.values.allSatisfy { $0 == 1 }, "no part reaches a group twice")
        let rows = try await SQLiteLedgerStore(path: setup.ledgerPath).deliveries(noticeID: "long-notice")
        // A multi-part claim is in doubt only with a part marked in flight: queued claims resume, so the bound is
        // the requests in flight.
        #expect(rows.filter { $0.state == .inDoubt }.count <= concurrency)
        for row in rows where row.state == .sent {
            let parts = received.filter { $0.group == row.groupID }.map { String($0.text.prefix(6)) }
            #expect(parts == ["(1/3) ", "(2/3) ", "(3/3) "], "\(row.groupID) got every part once, in order")
        }
        #expect(rows.allSatisfy { $0.state == .sent || $0.state == .inDoubt })
        try await setup.close()
    }
}

extension CLITests {
    @Test func ledgerListsDeliveriesAndAnOperatorResolvesTheOnesInDoubt() async throws {
        let setup = try await setup(groups: 3, faults: ["g0000": [.reset], "g0001": [.reset]])
        let send = ["send", "--config", setup.configPath, "--to", "all", "--id", "doubt", "--text", "不回拨"]
        let first = try await setup.run(send)
        #expect(first.status == 1)
        #expect(first.stdout.contains("1 of 3 groups sent, 0 dead, 2 in_doubt"))

        let listed = try await setup.run([
            "ledger", "list", "--config", setup.configPath, "--state", "in_doubt", "--format", "json",
        ])
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.map { $0["group_id"] as? String } == ["g0000", "g0001"])
        #expect(rows.allSatisfy { ($0["last_error"] as? String)?.hasPrefix("outcome unknown") == true })
        let csv = try await setup.run([
            "ledger", "list", "--config", setup.configPath, "--notice", "doubt", "--format", "csv",
        ])
        #expect(csv.stdout.split(separator: "\n").count == 4)

        // g0000: the operator saw it in the group; g0001: it never arrived, send it again.
        let seen = try await setup.run(
            [
                "ledger", "resolve", "--config", setup.configPath, "--notice", "doubt", "--group", "g0000", "--as",
                "sent", "--note", "checked the group",
            ]
        )
        #expect(seen.status == 0, "\(seen.stderr)")
        let resend = try await setup.run(
            [
                "ledger", "resolve", "--config", setup.configPath, "--notice", "doubt", "--group", "g0001", "--as",
                "resend",
            ]
        )
        #expect(resend.status == 0)
        let again = try await setup.run(send)
        #expect(again.status == 0, "\(again.stdout)")
        #expect(again.stdout.contains("3 of 3 groups sent, 0 dead, 0 in_doubt"))
        let perGroup = try await setup.receivedPerGroup()
        #expect(perGroup == ["g0001": 1, "g0002": 1], "g0000's copy was the operator's call; g0001 got exactly one")

        let notInDoubt = try await setup.run(
            [
                "ledger", "resolve", "--config", setup.configPath, "--notice", "doubt", "--group", "g0002", "--as",
                "sent",
            ]
        )
        #expect(notInDoubt.status == 2)
        #expect(notInDoubt.stderr.contains("is sent, not in_doubt"))
        let store = try SQLiteLedgerStore(path: setup.ledgerPath)
        let resolved = try #require(try await store.deliveries(noticeID: "doubt").first { $0.groupID == "g0000" })
        #expect(resolved.lastError?.hasSuffix(": checked the group") == true)
        try await setup.close()
    }
}

extension GridcastProcess.Result {
    /// The notice id a `send` run printed.
    var noticeID: String {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("notice ") }) else { return "" }
        return String(line.dropFirst(7).prefix(while: { $0 != ":" && $0 != " " }))
    }
}
