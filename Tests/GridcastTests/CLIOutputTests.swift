import Emulator
import Foundation
import GridcastTesting
import Testing

/// What the command line prints for people and for their spreadsheets and scripts.
extension CLITests {
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Runs `gridcast` and returns its standard output as bytes, unchanged (a string read would drop a BOM).
    func rawOutput(_ arguments: [String]) async throws -> (status: Int32, bytes: [UInt8]) {
        let running = try GridcastProcess.start(arguments, environment: ["GRIDCAST_LOG_LEVEL": "warning"])
        let status = await running.exitStatus()
        let bytes = [UInt8](FileManager.default.contents(atPath: running.stdoutPath) ?? Data())
        _ = try await running.wait()
        return (status, bytes)
    }

    @Test func csvStartsWithAByteOrderMarkForExcelUnlessAScriptAsksNot() async throws {
        let setup = try await setup(groups: 2)
        let sent = try await setup.run(["send", "--config", setup.configPath, "--to", "all", "--text", "不转账"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        for command in [["report", "daily"], ["report", "weekly"], ["report", "monthly"], ["ledger", "list"]] {
            let base = command + ["--config", setup.configPath, "--format", "csv"]
            let excel = try await rawOutput(base)
            #expect(excel.status == 0)
            #expect(Array(excel.bytes.prefix(3)) == Self.byteOrderMark, "\(command)")
            let script = try await rawOutput(base + ["--no-bom"])
            #expect(Array(script.bytes.prefix(3)) != Self.byteOrderMark, "\(command)")
            #expect(Array(excel.bytes.dropFirst(3)) == script.bytes, "the same CSV behind the mark")
            // Only CSV carries it: JSON and tables are for programs and terminals.
            let json = try await rawOutput(command + ["--config", setup.configPath, "--format", "json"])
            #expect(json.bytes.first == UInt8(ascii: command[0] == "ledger" ? "[" : "{"))
        }
        try await setup.close()
    }

    @Test func anUnknownGroupOrNoticeInTheListingIsAnError() async throws {
        let setup = try await setup(groups: 2)
        let sent = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--id", "n1", "--text", "x",
        ])
        #expect(sent.status == 0)
        let list = ["ledger", "list", "--config", setup.configPath]
        let group = try await setup.run(list + ["--group", "nobody"])
        #expect(group.status == 2)
        #expect(group.stderr.contains("--group: no group 'nobody'"))
        let notice = try await setup.run(list + ["--notice", "nothing", "--format", "csv"])
        #expect(notice.status == 2)
        #expect(notice.stderr.contains("--notice: no notice 'nothing' in the ledger"))
        // A refused listing writes nothing a script could take for an empty answer: no header, no "[".
        #expect(notice.stdout.isEmpty, "\(notice.stdout)")
        let json = try await setup.run(list + ["--group", "nobody", "--format", "json"])
        #expect(json.status == 2 && json.stdout.isEmpty, "\(json.stdout)")
        // A known group with nothing in the range is an empty answer, not an error.
        let empty = try await setup.run(list + ["--group", "g0000", "--date", "2020-01-01"])
        #expect(empty.status == 0)
        #expect(empty.stdout.hasSuffix("0 deliveries\n"))
        let one = try await setup.run(list + ["--group", "g0000"])
        #expect(one.stdout.hasSuffix("\n1 delivery\n"), "\(one.stdout)")
        try await setup.close()
    }

    @Test func theJSONListingHasNumbersAsNumbersAndNullForWhatIsMissing() async throws {
        let setup = try await setup(groups: 1)
        let sent = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--id", "n1", "--text", "x",
        ])
        #expect(sent.stdout.contains("planned 1 delivery\n"), "\(sent.stdout)")
        let listed = try await setup.run(["ledger", "list", "--config", setup.configPath, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let row = try #require(rows.first)
        #expect(row["attempts"] as? Int == 1)
        #expect(row["parts_sent"] as? Int == 1)
        #expect(row["parts_total"] as? Int == 1)
        #expect(row["parts"] as? String == "1/1")
        #expect(row["last_error"] is NSNull)
        #expect(listed.stdout.contains("\"attempts\" : 1"))
        try await setup.close()
    }

    @Test func checkSaysOneGroupAndItsErrorsDoNotClaimNothingWasSent() async throws {
        let setup = try await setup(groups: 1)
        let check = try await setup.run(["check", "--config", setup.configPath])
        #expect(check.stdout.hasPrefix("ok: 1 group (wecom 1);"), "\(check.stdout)")
        let bad = try setup.directory.write("bad.yaml", "timezone: Nowhere/Atlantis\ngroups: []\n")
        for command in [["check"], ["report", "daily"], ["ledger", "list"]] {
            let result = try await setup.run(command + ["--config", bad])
            #expect(result.status == 2)
            #expect(!result.stderr.contains("nothing was sent"), "\(command): \(result.stderr)")
        }
        let send = try await setup.run(["send", "--config", bad, "--to", "all", "--text", "x"])
        #expect(send.status == 2)
        #expect(send.stderr.contains("nothing was sent"))
        try await setup.close()
    }
}

extension CLITests {
    @Test func reportsListNoticesAndFailuresInChineseForOneSelectionWithItsIdleGroups() async throws {
        let setup = try await setup(groups: 4, faults: ["g0001": [.permanent]])
        let sent = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--id", "n1", "--title", "防骗提醒", "--text", "不转账",
        ])
        #expect(sent.status == 1, "\(sent.stdout)\(sent.stderr)")
        let daily = ["report", "daily", "--config", setup.configPath]
        let table = try await setup.run(daily)
        #expect(table.stdout.contains("n1      防骗提醒  3       4"), "\(table.stdout)")
        #expect(table.stdout.contains("网格群1（g0001）  《防骗提醒》  dead after 1 attempt: 机器人地址无效 ("))
        let markdown = try await setup.run(daily + ["--format", "markdown"])
        #expect(markdown.stdout.contains("| n1 | 防骗提醒 | 3 | 4 | 3 | 1 | 0 |"), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("- 网格群1（g0001） ·《防骗提醒》：失败，机器人地址无效"))

        let even = try await setup.run(daily + ["--to", "tag:even", "--include-idle"])
        #expect(even.status == 0)
        #expect(even.stdout.contains("（tag:even）：共发布反诈信息 1 条，转发 2 个群，累计投递 2 次（成功 2 次，失败 0 次"))
        #expect(even.stdout.contains("0 groups received nothing:"))
        #expect(!even.stdout.contains("g0001"), "another community's figures stay out")
        let odd = try await setup.run(daily + ["--to", "tag:odd", "--include-idle", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(odd.stdout.utf8)) as? [String: Any])
        #expect(report["selector"] as? String == "tag:odd")
        #expect(report["deliveries"] as? Int == 2)
        let idle = try #require(report["idle_groups"] as? [[String: Any]])
        #expect(idle.map { $0["group_id"] as? String } == ["g0001"])
        let unknown = try await setup.run(daily + ["--to", "tag:nowhere"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("--to:"))

        // A month shows the days that had deliveries; every day only when asked.
        let monthly = ["report", "monthly", "--config", setup.configPath, "--format", "markdown"]
        let month = try await setup.run(monthly)
        let allDays = try await setup.run(monthly + ["--all-days"])
        let dayRows = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("| 20") }.count }
        #expect(dayRows(month.stdout) == 1, "\(month.stdout)")
        #expect(dayRows(allDays.stdout) >= 28)
        try await setup.close()
    }

    @Test func aDryRunShowsGroupsPartsAndQuietHoursAndSendsNothing() async throws {
        // Quiet hours around the current time in Shanghai, so that now is inside them.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let hour = calendar.component(.hour, from: Date())
        let window = String(format: "%02d:00-%02d:59", (hour + 23) % 24, (hour + 1) % 24)
        let directory = try TemporaryDirectory("cli-dry")
        let server = try await EmulatorServer.start(
            groups: TestGroups.wecom(3, port: 0), faults: FaultPlan(faults: [:]), enforceRateLimits: false)
        let groups = TestGroups.wecom(3, port: server.port)
        let ledger = directory.file("ledger.sqlite")
        let config = try directory.write(
            "gridcast.yaml", TestGroups.yaml(groups, ledger: ledger, extra: "quiet_hours: \"\(window)\""))
        let long = String(repeating: "不要给陌生人转账，接到自称公检法的电话先挂断再核实。", count: 40)
        let result = try await GridcastProcess.run([
            "send", "--config", config, "--to", "tag:even", "--id", "dry", "--title", "提醒", "--text", long,
            "--dry-run",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("dry run: nothing is sent and no ledger is written"))
        #expect(result.stdout.contains("notice dry 「提醒」 → 2 groups"), "\(result.stdout)")
        #expect(result.stdout.contains("  g0000  wecom  2 parts  网格群0"))
        #expect(result.stdout.contains("  g0002  wecom  2 parts  网格群2"))
        #expect(!result.stdout.contains("g0001"))
        #expect(result.stdout.contains("4 messages in all"))
        #expect(result.stdout.contains("quiet hours \(window): now;"), "\(result.stdout)")
        #expect(result.stdout.contains("+08:00)"))
        #expect(!FileManager.default.fileExists(atPath: ledger), "a dry run creates no ledger")
        #expect(try await server.received().isEmpty)
        let refused = try await GridcastProcess.run([
            "send", "--config", config, "--to", "group:nobody", "--text", "x", "--dry-run",
        ])
        #expect(refused.status == 2)
        #expect(!FileManager.default.fileExists(atPath: ledger))
        try await server.stop()
        directory.remove()
    }

    @Test func logLinesCarryALocalTimestampWithItsOffsetExceptUnderJournald() async throws {
        let setup = try await setup(groups: 1, faults: ["g0000": [.permanent]])
        let send = ["send", "--config", setup.configPath, "--to", "all", "--text", "x", "--log-level", "trace"]
        let plain = try await GridcastProcess.run(send + ["--id", "a"])
        let lines = plain.stderr.split(separator: "\n").filter { $0.contains("level=") }
        #expect(!lines.isEmpty, "\(plain.stderr)")
        for line in lines {
            // ts=2026-12-03T09:30:00.120+08:00 level=…
            #expect(line.hasPrefix("ts=20") && line.contains("+08:00 level="), "\(line)")
        }
        let journald = try await GridcastProcess.run(send + ["--id", "b"], environment: ["JOURNAL_STREAM": "8:1"])
        let journalLines = journald.stderr.split(separator: "\n").filter { $0.contains("level=") }
        #expect(!journalLines.isEmpty)
        #expect(journalLines.allSatisfy { $0.hasPrefix("<") && !$0.contains("ts=") }, "\(journald.stderr)")
        try await setup.close()
    }
}

extension CLITests {
    @Test func schedulePreviewTimesCarryTheConfigsOffset() async throws {
        let directory = try TemporaryDirectory("cli-preview")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        _ = try directory.write("notices/001-five.md", "---\nid: five\ntitle: 五不\n---\n不转账。\n")
        let groups = TestGroups.wecom(1, port: 9)
        let extra = """
            notices:
              dir: notices
            schedules:
              - id: morning
                cron: "30 9 * * *"
                to: all
                pick: next-unsent
            """
        let config = try directory.write(
            "gridcast.yaml", TestGroups.yaml(groups, ledger: directory.file("ledger.sqlite"), extra: extra))
        // Preview reads an existing ledger only: a send to a bot nobody listens to makes one (and ends dead).
        _ = try await GridcastProcess.run(
            ["send", "--config", config, "--to", "all", "--id", "seed", "--text", "x"],
            environment: ["GRIDCAST_LOG_LEVEL": "error"])
        let preview = try await GridcastProcess.run(["schedule", "preview", "--config", config, "--days", "2"])
        #expect(preview.status == 0, "\(preview.stderr)")
        let firing = try #require(preview.stdout.split(separator: "\n").first { $0.hasPrefix("  20") })
        // "  2026-12-04T09:30:00+08:00 Fri"
        #expect(firing.contains("T09:30:00+08:00 "), "\(preview.stdout)")
    }
}
