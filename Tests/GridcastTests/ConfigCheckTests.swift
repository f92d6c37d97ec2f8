import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing

/// `check`'s reading of a config: every independent problem in one run, full-width punctuation where it is typed,
/// warnings that don't stop the config, and credentials left alone by commands that don't send.
@Suite("Config check: one pass, full-width punctuation, warnings, deferred credentials")
struct ConfigCheckTests {
    /// Loads `yaml` as `gridcast.yaml` in a scratch directory; the problems with the directory stripped.
    func problems(
        _ yaml: String, files: [String: String] = [:], environment: [String: String] = [:]
    ) throws -> [String] {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.write(files, in: directory)
        let path = try directory.write("gridcast.yaml", yaml)
        do {
            _ = try ConfigLoader(catalog: SinkRegistry.standard, environment: environment).load(path: path)
            return []
        } catch {
            return error.diagnostics.map { $0.description.replacingOccurrences(of: directory.path + "/", with: "") }
        }
    }

    static func write(_ files: [String: String], in directory: TemporaryDirectory) throws {
        for (name, text) in files {
            let folder = (directory.file(name) as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try directory.write(name, text)
        }
    }

    /// A one-notice library beside the config.
    static let library = ["notices/001-five-donts.md": "---\nid: five-donts\ntitle: 牢记五不\n---\n不回拨、不转账。\n"]

    @Test func everyIndependentProblemIsReportedInOneRun() throws {
        let yaml = """
            timezone: Asia/Shanghai
            dispach:
              concurrency: 4
            notices:
              dir: notices
            groups:
              - id: Bad_ID
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${UNSET_KEY}
                tags: [elderly]
              - id: ok
                sink: wechat
                url: https://example.com/x
              - id: ok
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k2
            schedules:
              - id: morning
                cron: "61 9 * * *"
                to: tag:eldery
                pick: newest
              - id: evening
                cron: "0 19 * * *"
                to: tag:elderly
            """
        #expect(
            try problems(yaml, files: Self.library) == [
                "gridcast.yaml:2:1: config: unknown key 'dispach' (did you mean 'dispatch'?)",
                "gridcast.yaml:7:9: group id 'Bad_ID' is invalid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
                "gridcast.yaml:9:10: groups[0].url: environment variable UNSET_KEY is not set",
                "gridcast.yaml:12:11: group ok: unknown sink 'wechat' (did you mean 'wecom'?); one of wecom, dingtalk, feishu, lark, slack, telegram, discord, teams, generic, wecom-customer-group",
                "gridcast.yaml:14:9: duplicate group id 'ok' (first defined at gridcast.yaml:11:5)",
                "gridcast.yaml:19:11: schedule morning: cron minute: 61 is outside 0-59",
                "gridcast.yaml:20:9: schedule morning: selector names unknown tag 'eldery'",
                "gridcast.yaml:21:11: schedule morning: pick must be next-unsent, dated or notice:ID, got 'newest'",
            ])
    }

    @Test func aScheduleFiringMoreOftenThanHourlyIsAWarning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.write(Self.library, in: directory)
        let path = try directory.write(
            "gridcast.yaml",
            """
            notices:
              dir: notices
            groups:
              - id: a
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
            schedules:
              - id: demo
                cron: "* * * * *"
              - id: twice
                cron: "0,30 9 * * *"
              - id: daily
                cron: "31 9 * * *"
              - id: hourly
                cron: "0 * * * *"
            """)
        let loaded = try ConfigLoader(catalog: SinkRegistry.standard, environment: [:]).loaded(path: path)
        #expect(loaded.config.schedules.count == 4)
        #expect(
            loaded.warnings.map(\.description) == [
                "\(path):9:11: schedule demo: cron \"* * * * *\" fires more often than hourly (every 1 minute): "
                    + "every firing posts into its groups",
                "\(path):11:11: schedule twice: cron \"0,30 9 * * *\" fires more often than hourly (every 30 minutes): "
                    + "every firing posts into its groups",
            ])
    }

    @Test func fullWidthPunctuationIsReportedWhereItIsTyped() throws {
        let colon = """
            timezone: Asia/Shanghai
            groups:
              - id: a
                name: 凌水：第1网格群
                sink：wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
            """
        #expect(try problems(colon) == ["gridcast.yaml:5:9: 全角冒号 '：' — use ':' after the key 'sink'"])
        // Indented deeper, the line would have been read into the value above it without any YAML error.
        let continued = colon.replacingOccurrences(of: "    sink：wecom", with: "      sink：wecom")
        #expect(try problems(continued) == ["gridcast.yaml:5:11: 全角冒号 '：' — use ':' after the key 'sink'"])
        let others = """
            groups:
              - id: a
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
                tags: [elderly，lingshui]
            \u{3000}\u{3000}mention_all: true
            """
        #expect(
            try problems(others) == [
                "gridcast.yaml:5:19: 全角逗号 '，' in a list — use ','",
                "gridcast.yaml:6:1: 全角空格 '\u{3000}' in the indentation — use ASCII spaces",
            ])
        // In quotes, comments and block text the same signs are just text.
        let text = """
            # 说明：每个群一行
            groups:
              - id: a
                name: "凌水：第1网格群"
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
            """
        #expect(try problems(text) == [])
    }

    @Test func credentialsAreLeftUnexpandedForCommandsThatDontSend() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("groups.csv", "id,sink,url,secret\nd1,dingtalk,${DT_URL},${DT_SECRET}\n")
        let path = try directory.write(
            "gridcast.yaml",
            """
            api:
              token_file: ${CREDENTIALS_DIRECTORY}/api-token
            groups_file: groups.csv
            groups:
              - id: w1
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}
                tags: [elderly]
            """)
        let deferred = ConfigLoader(catalog: SinkRegistry.standard, environment: [:], credentials: .deferred)
        let loaded = try deferred.loaded(path: path)
        #expect(loaded.config.groups.map(\.id) == ["w1", "d1"])
        #expect(loaded.config.api?.token == "")
        #expect(
            Set(loaded.deferred.flatMap(\.variables)) == ["CREDENTIALS_DIRECTORY", "WECOM_KEY", "DT_URL", "DT_SECRET"])
        // The same config for a command that sends: each missing variable at its place.
        do {
            _ = try ConfigLoader(catalog: SinkRegistry.standard, environment: [:]).load(path: path)
            Issue.record("an unset credential must stop a command that sends")
        } catch {
            #expect(
                error.diagnostics.map(\.description) == [
                    "\(path):2:15: api.token_file: environment variable CREDENTIALS_DIRECTORY is not set",
                    "\(path):7:10: groups[0].url: environment variable WECOM_KEY is not set",
                    "\(directory.path)/groups.csv:2: url: environment variable DT_URL is not set",
                    "\(directory.path)/groups.csv:2: secret: environment variable DT_SECRET is not set",
                ])
        }
        // Other variables are still needed: they decide what the command reads.
        let ledger = try directory.write("other.yaml", "ledger:\n  path: ${STATE}/l.sqlite\ngroups_file: groups.csv\n")
        #expect(throws: ConfigError.self) { try deferred.load(path: ledger) }
    }

    @Test func aKeyWrittenIntoAnHTTPURLIsMasked() throws {
        let found = try problems(
            """
            groups:
              - id: leaky
                sink: wecom
                url: http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7d2e-4bc4-97a0-0ec2f1fa5aaa
              - id: short
                sink: wecom
                url: http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc
              - id: hook
                sink: generic
                url: http://receiver.example.org/hook?auth=Zq81kd&x=1
                secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
              - id: fs
                sink: feishu
                url: http://open.feishu.cn/open-apis/bot/v2/hook/abcd1234
            """)
        #expect(found.count == 4)
        #expect(found.allSatisfy { $0.contains("use https:// for") }, "\(found)")
        #expect(found[1].hasSuffix("use https:// for http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"))
        #expect(found[3].hasSuffix("use https:// for http://open.feishu.cn/open-apis/bot/v2/hook/***"))
        for secret in ["693a91f6-7d2e-4bc4-97a0-0ec2f1fa5aaa", "key=abc", "Zq81kd", "abcd1234"] {
            #expect(!found.contains { $0.contains(secret) }, "\(found)")
        }
    }
}
