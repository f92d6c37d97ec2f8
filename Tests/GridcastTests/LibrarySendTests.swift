import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing

/// Markdown per group format, `send --notice`, front matter, `mention_all: urgent`, `urgent_prefix`, library
/// audiences in `check`, `send`'s progress and refusals, and the production template.
@Suite("Library notices: rendering, send by id, front matter, mentions", .serialized)
struct LibrarySendTests {
    static let markdown = """
        ## 刷单返利

        记住：**所有刷单都是诈骗**，~~稳赚不赔~~不存在。
        - 别加群
        * 别垫钱
        详见[国家反诈中心](https://www.example.org/fzzx)，代码 `96110`，2 * 3 * 4 照写。
        """

    @Test func markdownBecomesCleanTextAndLinksKeepTheirAddress() {
        #expect(
            MarkdownText.plain(Self.markdown) == """
                刷单返利

                记住：所有刷单都是诈骗，稳赚不赔不存在。
                · 别加群
                · 别垫钱
                详见国家反诈中心 https://www.example.org/fzzx，代码 96110，2 * 3 * 4 照写。
                """)
        #expect(MarkdownText.plain("1. **不回拨**：陌生号码") == "1. 不回拨：陌生号码")
        #expect(MarkdownText.plain("snake_case_name 与 \\*星号\\*") == "snake_case_name 与 *星号*")
        #expect(MarkdownText.plain("> 引用\n---\n*斜体*") == "引用\n斜体")
    }

    @Test func eachGroupGetsTheNoticeAsItsPlatformShowsIt() {
        let notice = Notice(id: "n", title: "**标题**", text: Self.markdown)
        func rendered(_ sink: any Sink, _ format: MessageFormat, mention: MentionAll = .never) -> String {
            var group = Group(id: "g", name: "g", sink: sink.name, url: "https://x", format: format)
            group.mentionAll = mention
            return MessageParts.rendered(notice, for: group, on: sink)
        }
        for (sink, format) in [(WeComSink(), MessageFormat.text), (DingTalkSink(), .text), (SlackSink(), .markdown)]
            as [(any Sink, MessageFormat)]
        {
            #expect(!rendered(sink, format).contains("**"), "\(sink.name) \(format)")
        }
        // Telegram keeps the markdown here and turns each part into its HTML subset as it builds the request
        // (PlatformTests: markdownIsRenderedInTelegramsHTMLSubset).
        let markdownSinks: [any Sink] = [
            WeComSink(), DingTalkSink(), FeishuSink(name: "feishu"), DiscordSink(), TeamsSink(), TelegramSink(),
        ]
        for sink in markdownSinks {
            #expect(rendered(sink, .markdown) == "**标题**\n\n" + Self.markdown, "\(sink.name) shows markdown")
        }
        // WeCom's markdown can't mention everyone: a group that may be mentioned gets text.
        #expect(!rendered(WeComSink(), .markdown, mention: .urgent).contains("**"))
    }

    /// Size limits hold for what is posted: a notice over WeCom's 2048 bytes only because of its marks is one part
    /// once they are gone, and every part of a longer one is within the limit after rendering.
    @Test func limitsApplyToTheRenderedText() {
        let line = "**不回拨**、**不轻信**、[不点击](https://www.example.org/x)。\n"
        let marked = String(repeating: line, count: 30)
        #expect(marked.utf8.count > 2048 && MarkdownText.plain(marked).utf8.count < 2048)
        let group = Group(id: "g", name: "g", sink: "wecom", url: "https://x")
        #expect(
            MessageParts.parts(of: Notice(id: "n", title: "", text: marked), for: group, on: WeComSink()).count == 1)
        let long = String(repeating: line, count: 120)
        let parts = MessageParts.parts(of: Notice(id: "n", title: "", text: long), for: group, on: WeComSink())
        #expect(parts.count > 1 && parts.allSatisfy { $0.utf8.count <= 2048 && !$0.contains("**") })
    }

    // MARK: - the gridcast binary against the emulator

    struct Setup {
        let server: EmulatorServer
        let directory: TemporaryDirectory
        let config: String
        let ledger: String

        func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> GridcastProcess.Result {
            try await GridcastProcess.run(
                arguments, environment: ["GRIDCAST_LOG_LEVEL": "error"].merging(environment) { $1 })
        }

        func send(_ arguments: [String]) async throws -> GridcastProcess.Result {
            try await run(["send", "--config", config] + arguments)
        }

        func close() async throws {
            try await server.stop()
            directory.remove()
        }
    }

    /// Two WeCom groups on the emulator (g0000 tag even, markdown; g0001 tag odd, text), a library in `notices/`.
    func setup(notices: [String: String], top: String = "") async throws -> Setup {
        let directory = try TemporaryDirectory("library-send")
        var groups = TestGroups.wecom(2, port: 0)
        groups[0].format = .markdown
        let server = try await EmulatorServer.start(groups: groups, enforceRateLimits: false)
        groups = TestGroups.wecom(2, port: server.port)
        groups[0].format = .markdown
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        for (name, text) in notices { _ = try directory.write("notices/\(name)", text) }
        let ledger = directory.file("ledger.sqlite")
        let yaml = TestGroups.yaml(groups, ledger: ledger, extra: top + "notices:\n  dir: notices\n")
        return Setup(
            server: server, directory: directory, config: try directory.write("gridcast.yaml", yaml), ledger: ledger)
    }

    static let boldNotice = "---\nid: brushing\ntitle: 刷单返利\nto: all\n---\n记住：**所有刷单都是诈骗**。\n"

    @Test func sendByNoticeIDPostsTheLibraryNoticeRenderedPerGroup() async throws {
        let setup = try await setup(notices: ["003-brushing.md": Self.boldNotice])
        let sent = try await setup.send(["--notice", "brushing"])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        let received = Dictionary(uniqueKeysWithValues: try await setup.server.received().map { ($0.group, $0.text) })
        #expect(received["g0000"] == "刷单返利\n\n记住：**所有刷单都是诈骗**。", "markdown group: kept")
        #expect(received["g0001"] == "刷单返利\n\n记住：所有刷单都是诈骗。", "text group: clean text")
        // Recorded under the library id with the notice's own content: the rotation knows the groups had it.
        let stored = try #require(try await SQLiteLedgerStore(path: setup.ledger).notice(id: "brushing"))
        #expect(
            stored.notice.contentHash == Notice(id: "brushing", title: "刷单返利", text: "记住：**所有刷单都是诈骗**。").contentHash)
        let again = try await setup.send(["--notice", "brushing"])
        #expect(again.stdout.contains("already delivered earlier; nothing to send"))
        #expect(try await setup.server.requestCount() == 2)
        try await setup.close()
    }

    /// After `send --notice` gave every group the one library notice, the preview shows the schedule starting round 2
    /// under its own id, and the even groups' dated notice on its day only.
    @Test func thePreviewShowsTheNextRoundUnderItsOwnID() async throws {
        let schedule = """
            schedules:
              - id: morning
                cron: "30 9 * * *"
                to: all
                pick: next-unsent

            """
        let setup = try await setup(notices: ["003-brushing.md": Self.boldNotice], top: schedule)
        #expect(try await setup.send(["--notice", "brushing"]).status == 0)
        let preview = try await setup.run(["schedule", "preview", "--config", setup.config, "--days", "2"])
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("when_exhausted restart"))
        let planned = preview.stdout.split(separator: "\n").filter { $0.hasPrefix("    brushing") }
        #expect(
            planned.first?.hasPrefix("    brushing.round-2 「刷单返利」 → 2 groups: g0000, g0001") == true,
            "\(preview.stdout)")
        #expect(planned.dropFirst().first?.hasPrefix("    brushing.round-3 ") == true, "\(preview.stdout)")
        try await setup.close()
    }

    @Test func anUnknownNoticeIDSaysHowToFindTheIDs() async throws {
        let setup = try await setup(notices: ["003-brushing.md": Self.boldNotice])
        let result = try await setup.send(["--notice", "brushingg"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no notice 'brushingg' in the library"), "\(result.stderr)")
        #expect(result.stderr.contains("did you mean 'brushing'?"))
        #expect(result.stderr.contains("grep -H '^id:'"))
        #expect(try await setup.server.requestCount() == 0)
        try await setup.close()
    }

    @Test func aFileWithFrontMatterSendsItsTextAndTheFlagsWin() async throws {
        let setup = try await setup(notices: ["003-brushing.md": Self.boldNotice])
        let file = try setup.directory.write(
            "alert.md", "---\nid: alert-1\ntitle: 原标题\nto: tag:odd\nurgent: true\n---\n今晚有冒充医保局的电话。\n")
        let result = try await setup.send(["--file", file, "--title", "医保诈骗"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.noticeID == "alert-1")
        let received = try await setup.server.received()
        #expect(received.map(\.group) == ["g0001"], "to: tag:odd from the front matter")
        #expect(received.first?.text == "【紧急】医保诈骗\n\n今晚有冒充医保局的电话。", "urgent from it, --title wins")
        // --to and --no-urgent win over it too; the same id with other content is refused naming the file's id:.
        let other = try await setup.send(["--file", file, "--to", "all", "--no-urgent"])
        #expect(other.status == 2)
        #expect(other.stderr.contains("(the id: in \(file))"), "\(other.stderr)")
        try await setup.close()
    }

    @Test func aChangedUrgencyWithoutIDDoesNotBlameID() async throws {
        let setup = try await setup(notices: ["003-brushing.md": Self.boldNotice])
        let first = try await setup.send(["--to", "all", "--text", "不转账"])
        #expect(first.status == 0)
        let urgent = try await setup.send(["--to", "all", "--text", "不转账", "--urgent"])
        #expect(urgent.status == 2)
        #expect(!urgent.stderr.contains("choose another --id"), "\(urgent.stderr)")
        #expect(urgent.stderr.contains("was recorded as not urgent"))
        try await setup.close()
    }

    /// `mention_all: urgent`: @all on an urgent notice's first part only, never on a routine one;
    /// `urgent_prefix` replaces 【紧急】.
    @Test func mentionAllUrgentMentionsOnTheFirstPartOfUrgentNoticesOnly() async throws {
        let setup = try await setup(
            notices: ["003-brushing.md": Self.boldNotice], top: "mention_all: urgent\nurgent_prefix: \"[急] \"\n")
        let long = String(repeating: "冒充公检法的骗子会说你的账户涉嫌洗钱，要你转到安全账户。\n", count: 60)
        let urgent = try await setup.send(["--to", "group:g0001", "--text", long, "--title", "紧急", "--urgent"])
        #expect(urgent.status == 0, "\(urgent.stdout)\(urgent.stderr)")
        let parts = try await setup.server.received()
        #expect(parts.count >= 2)
        #expect(parts.map(\.mentionAll) == [true] + Array(repeating: false, count: parts.count - 1))
        #expect(parts.first?.text.hasPrefix("(1/\(parts.count)) [急] 紧急") == true, "\(parts.first?.text ?? "")")
        let routine = try await setup.send(["--to", "group:g0001", "--text", "不转账"])
        #expect(routine.status == 0)
        #expect(try await setup.server.received().last?.mentionAll == false)
        try await setup.close()
    }

    @Test func anAudienceThisConfigLacksIsACheckWarningNamingTheLine() async throws {
        let setup = try await setup(notices: [
            "003-brushing.md": Self.boldNotice, "011-migrant.md": "---\nid: migrant\nto: tag:migrant\n---\n工友们，不交钱。\n",
        ])
        let check = try await setup.run(["check", "--config", setup.config])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("ok: 2 groups"))
        #expect(
            check.stderr.contains(
                "notices/011-migrant.md:3:5: warning: to: selector names unknown tag 'migrant': notice 'migrant' is "
                    + "left out of this config's schedules"), "\(check.stderr)")
        try await setup.close()
    }

    /// On a terminal `send` shows `N/M groups done`; into a pipe it prints nothing of the kind.
    @Test func sendShowsProgressOnATerminalOnly() async throws {
        let setup = try await setup(notices: ["003-brushing.md": Self.boldNotice])
        let piped = try await setup.send(["--to", "all", "--text", "不点击"])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("groups done"))
        // script(1) runs the command on a pseudo-terminal and copies what it printed.
        let command = [GridcastProcess.executable, "send", "--config", setup.config, "--to", "all", "--text", "不透露"]
            .map { "'\($0)'" }.joined(separator: " ")
        let terminal = try await GridcastProcess.launch(
            "/usr/bin/script", ["-qec", command, "/dev/null"], environment: ["GRIDCAST_LOG_LEVEL": "error"]
        ).wait()
        #expect(terminal.status == 0, "\(terminal.stdout)")
        #expect(terminal.stdout.contains("2/2 groups done (sent 2)"), "\(terminal.stdout)")
        try await setup.close()
    }

    /// `config/example.yaml` passes `check` once what it names exists: the groups file its comment shows, the
    /// variables, the API token file; the bundled library's notices for tags it lacks are warnings.
    @Test func theProductionTemplatePassesCheck() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let example = try String(
            contentsOfFile: root.appendingPathComponent("config/example.yaml").path, encoding: .utf8)
        let directory = try TemporaryDirectory("example")
        defer { directory.remove() }
        try FileManager.default.copyItem(
            atPath: root.appendingPathComponent("config/notices").path, toPath: directory.file("notices"))
        let config = try directory.write("gridcast.yaml", example)
        // The groups file is the commented example under "groups_file", comment marks taken off.
        let csv = example.split(separator: "\n").filter { $0.hasPrefix("#   ") }.map { $0.dropFirst(4) }
        #expect(csv.first == "id,name,sink,url,secret,keyword,tags")
        _ = try directory.write("groups.csv", csv.joined(separator: "\n") + "\n")
        try FileManager.default.createDirectory(
            atPath: directory.file("credentials"), withIntermediateDirectories: true)
        _ = try directory.write("credentials/api-token", "a-long-enough-api-token-0123456789\n")
        var names = Set<String>()
        for match in example.matches(of: /\$\{([A-Z0-9_]+)\}/) { names.insert(String(match.1)) }
        var environment = Dictionary(uniqueKeysWithValues: names.map { ($0, "value-of-\($0.lowercased())") })
        environment["CREDENTIALS_DIRECTORY"] = directory.file("credentials")
        let check = try await GridcastProcess.run(["check", "--config", config], environment: environment)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("ok: 3 groups"), "\(check.stdout)")
        #expect(check.stdout.contains("schedules: morning-warning") && check.stdout.contains("32 library notices"))
        #expect(!example.contains("* * * * *") && example.contains("cron: \"30 9 * * *\""))
        #expect(example.contains("quiet_hours:") && example.contains("mention_all: urgent"))
    }
}
