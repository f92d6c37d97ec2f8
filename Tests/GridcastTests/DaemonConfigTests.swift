import Foundation
import GridcastCore
import GridcastTesting
import Scheduling
import Sinks
import Testing

@Suite("Config for the daemon: notice library, schedules, quiet hours, API")
struct DaemonConfigTests {
    let loader = ConfigLoader(catalog: SinkRegistry.standard, environment: ["API_TOKEN": "0123456789abcdef-token"])

    static let groups = """
        groups:
          - id: a
            sink: wecom
            url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1
            tags: [elderly]
        """

    func load(
        _ yaml: String, notices: [String: String] = [:], files: [String: String] = [:]
    ) throws
        -> Result<GridcastConfig, ConfigError>
    {
        let directory = try TemporaryDirectory("daemon-config")
        defer { directory.remove() }
        if !notices.isEmpty {
            try FileManager.default.createDirectory(
                atPath: directory.file("notices"), withIntermediateDirectories: true)
            for (name, text) in notices { try directory.write("notices/\(name)", text) }
        }
        for (name, text) in files { try directory.write(name, text) }
        let path = try directory.write("gridcast.yaml", yaml)
        do {
            return .success(try loader.load(path: path))
        } catch {
            return .failure(
                ConfigError(
                    error.diagnostics.map {
                        var copy = $0
                        copy.location?.file = ($0.location?.file ?? "").replacingOccurrences(
                            of: directory.path + "/", with: "")
                        return copy
                    }
                )
            )
        }
    }

    static let notice = "---\nid: five-donts\ntitle: 五不\n---\n不回拨、不轻信、不点击、不透露、不转账。\n"

    @Test func theBundledDemoConfigAndLibraryLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try loader.load(path: root.appendingPathComponent("config/demo.yaml").path)
        #expect(config.groups.filter { !$0.isCustomerGroup }.count == 18)
        #expect(config.library.entries.count >= 30)
        #expect(config.library.entries.allSatisfy { $0.notice.text.count <= 500 })
        #expect(config.schedules.map(\.id) == ["morning-warning"])
        #expect(config.api?.port == 8640)
        // Every audience selector in the library names tags the demo groups have.
        for entry in config.library.entries {
            if let selector = entry.selector { #expect(throws: Never.self) { try selector.resolve(in: config.groups) } }
        }
    }

    @Test func schedulesQuietHoursAndAPIParse() throws {
        let yaml =
            Self.groups + """

                notices:
                  dir: notices
                schedules:
                  - id: morning-warning
                    cron: "30 9 * * mon-fri"
                    to: tag:elderly
                    pick: notice:five-donts
                    catch_up: 2h
                quiet_hours: "21:30-07:30"
                api:
                  listen: 127.0.0.1:9999
                  token: ${API_TOKEN}
                """
        let config = try load(yaml, notices: ["001-five.md": Self.notice]).get()
        #expect(config.schedules.first?.pick == .notice("five-donts"))
        #expect(config.schedules.first?.catchUp == .seconds(7200))
        #expect(config.quietHours?.description == "21:30-07:30")
        #expect(config.api == APIConfig(host: "127.0.0.1", port: 9999, token: "0123456789abcdef-token"))
        #expect(config.library.entries.first?.notice.title == "五不")
        #expect(config.secrets.contains("0123456789abcdef-token"))
    }

    @Test func scheduleProblemsPointAtTheirValues() throws {
        let yaml =
            Self.groups + """

                notices:
                  dir: notices
                schedules:
                  - id: a
                    cron: "30 25 * * *"
                  - id: b
                    cron: "0 9 * * *"
                    to: tag:nobody
                  - id: c
                    cron: "0 9 * * *"
                    pick: notice:missing
                  - id: d
                    cron: "0 9 * * *"
                    pick: random
                quiet_hours: "evening"
                """
        guard case .failure(let error) = try load(yaml, notices: ["001.md": Self.notice]) else {
            Issue.record("expected problems")
            return
        }
        #expect(
            error.diagnostics.map(\.description) == [
                "gridcast.yaml:10:11: schedule a: cron hour: 25 is outside 0-23",
                "gridcast.yaml:13:9: schedule b: selector names unknown tag 'nobody'",
                "gridcast.yaml:16:11: schedule c: pick names notice 'missing', which is not in the notice library",
                "gridcast.yaml:19:11: schedule d: pick must be next-unsent, dated or notice:ID, got 'random'",
                "gridcast.yaml:20:14: quiet_hours: expected HH:MM-HH:MM such as 21:30-07:30, got 'evening'",
            ])
    }

    @Test func noticeFileProblemsHaveTheirLocation() throws {
        let yaml = Self.groups + "\nnotices:\n  dir: notices\n"
        let notices = [
            "001-ok.md": Self.notice,
            "002-no-front.md": "不转账\n",
            "003-bad-key.md": "---\nid: bad-key\ntitel: 错字\n---\n正文\n",
            "004-dup.md": Self.notice,
            "005-empty.md": "---\nid: empty\n---\n\n",
            "006-date.md": "---\nid: dated\ndate: 2026-02-30\n---\n正文\n",
        ]
        guard case .failure(let error) = try load(yaml, notices: notices) else {
            Issue.record("expected problems")
            return
        }
        let lines = error.diagnostics.map(\.description)
        #expect(
            lines.contains(
                "notices/002-no-front.md:1:1: a notice starts with front matter: a line '---', id: …, and another '---'"
            ))
        #expect(lines.contains("notices/003-bad-key.md:3:1: unknown front matter key 'titel' (did you mean 'title'?)"))
        #expect(lines.contains("notices/004-dup.md:2:1: duplicate notice id 'five-donts' (also in 001-ok.md)"))
        #expect(lines.contains("notices/005-empty.md:4:1: the notice has no text after its front matter"))
        #expect(lines.contains("notices/006-date.md:3:7: date: expected YYYY-MM-DD, got '2026-02-30'"))
    }

    /// Notepad and many Windows editors save CRLF line endings (and often a BOM): such a notice loads exactly as
    /// the same notice saved with LF, its text without a carriage return.
    @Test func aNoticeSavedWithCRLFLineEndingsLoadsAsWithLF() throws {
        let yaml = Self.groups + "\nnotices:\n  dir: notices\n"
        let lf = "---\nid: crlf\ntitle: 五不\nurgent: false\n---\n不回拨、不轻信。\n\n不点击、不透露、不转账。\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        let expected = try load(yaml, notices: ["001.md": lf]).get().library.entries
        #expect(expected.first?.notice.text == "不回拨、不轻信。\n\n不点击、不透露、不转账。")
        for (label, text) in [("CRLF", crlf), ("BOM and CRLF", "\u{FEFF}" + crlf)] {
            let loaded = try load(yaml, notices: ["001.md": text])
            guard case .success(let config) = loaded else {
                Issue.record("\(label): \(loaded)")
                continue
            }
            #expect(config.library.entries == expected, "\(label)")
            #expect(config.library.entries.first?.notice.text.contains("\r") == false, "\(label)")
        }
    }

    @Test func theAPITokenComesFromAFileAndIsNeverShown() throws {
        let yaml = Self.groups + "\napi:\n  token_file: token.txt\n"
        let config = try load(yaml, files: ["token.txt": "file-token-0123456789\n"]).get()
        #expect(config.api?.token == "file-token-0123456789")
        guard case .failure(let short) = try load(Self.groups + "\napi:\n  token: short\n") else {
            Issue.record("a short token must be refused")
            return
        }
        #expect(short.description.contains("at least 16 characters"))
        #expect(!short.description.contains("short\n"))
    }
}
