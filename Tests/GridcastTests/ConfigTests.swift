import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing

@Suite("Config: YAML and CSV, every problem with its place")
struct ConfigTests {
    let loader = ConfigLoader(catalog: SinkRegistry.standard, environment: ["WECOM_KEY": "abc123", "EMPTY": ""])

    func problems(_ yaml: String, files: [String: String] = [:]) throws -> [String] {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (name, text) in files { try directory.write(name, text) }
        let path = try directory.write("gridcast.yaml", yaml)
        do {
            _ = try loader.load(path: path)
            return []
        } catch {
            return error.diagnostics.map {
                $0.description.replacingOccurrences(of: directory.path + "/", with: "")
            }
        }
    }

    static let valid = """
        timezone: Asia/Shanghai
        ledger:
          path: var/test.sqlite
        dispatch:
          concurrency: 8
          timeout: 250ms
          attempts: 3
          backoff: 1s
          rate_limit_pause: 1m
          in_doubt: resend
        groups:
          - id: lingshui-01
            name: 凌水社区第1网格群
            sink: wecom
            url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}
            tags: [lingshui, elderly]
            mention_all: true
          - id: hook.1
            sink: generic
            url: http://127.0.0.1:9000/hooks/1
            secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
        """

    @Test func threadIDIsReadFromYAMLAndCSVAndRefusedOffTelegramAtItsPlace() throws {
        let yaml = """
            groups:
              - id: tg-forum
                sink: telegram
                url: https://api.telegram.org/bot123:abc/sendMessage
                chat_id: "-1001234"
                thread_id: "42"
              - id: wecom-1
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
                thread_id: "7"
            groups_file: groups.csv
            """
        let csv = """
            id,sink,url,chat_id,thread_id
            tg-csv,telegram,https://api.telegram.org/bot123:abc/sendMessage,-1005,9
            tg-bad,telegram,https://api.telegram.org/bot123:abc/sendMessage,-1006,general
            """
        let found = try problems(yaml, files: ["groups.csv": csv])
        #expect(
            found == [
                "gridcast.yaml:10:16: group wecom-1: thread_id is a Telegram forum topic; sink wecom has none",
                "groups.csv:3: group tg-bad: thread_id: expected the topic's positive number, got 'general'",
            ])
        let good = yaml.replacingOccurrences(of: "    thread_id: \"7\"\n", with: "")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("groups.csv", csv.replacingOccurrences(of: ",general", with: ",3"))
        let config = try loader.load(path: try directory.write("gridcast.yaml", good))
        #expect(config.groups.map(\.threadID) == ["42", nil, "9", "3"])
    }

    @Test func validConfigLoadsWithDefaultsAndExpansion() throws {
        let config = try loader.load(yaml: Self.valid, file: "gridcast.yaml")
        #expect(config.timeZone.identifier == "Asia/Shanghai")
        #expect(config.ledger.path == "var/test.sqlite")
        #expect(config.dispatch.concurrency == 8)
        #expect(config.dispatch.timeout == .milliseconds(250))
        #expect(config.dispatch.rateLimitPause == .seconds(60))
        #expect(config.dispatch.inDoubt == .resend)
        #expect(config.groups.map(\.id) == ["lingshui-01", "hook.1"])
        #expect(config.groups[0].url.hasSuffix("key=abc123"))
        #expect(config.groups[0].tags == ["lingshui", "elderly"])
        #expect(config.groups[0].mentionAll == .always)
        #expect(config.groups[1].name == "hook.1")
    }

    @Test func unknownKeysAreErrorsWithASuggestion() throws {
        let yaml = Self.valid.replacingOccurrences(of: "  concurrency: 8", with: "  concurrancy: 8")
            .replacingOccurrences(of: "    mention_all: true", with: "    mention: true")
        #expect(
            try problems(yaml) == [
                "gridcast.yaml:5:3: dispatch: unknown key 'concurrancy' (did you mean 'concurrency'?)",
                "gridcast.yaml:17:5: groups[0]: unknown key 'mention' (did you mean 'mention_all'?)",
            ])
    }

    @Test func unsetEnvironmentVariableIsAnErrorAtItsValue() throws {
        let yaml = Self.valid.replacingOccurrences(of: "${WECOM_KEY}", with: "${WECOM_KEY_02}")
        #expect(
            try problems(yaml) == ["gridcast.yaml:15:10: groups[0].url: environment variable WECOM_KEY_02 is not set"])
    }

    @Test func everyProblemIsReportedNotJustTheFirst() throws {
        let yaml = """
            timezone: Mars/Olympus
            dispatch:
              timeout: soon
              in_doubt: maybe
            groups:
              - id: Bad_ID
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
              - id: ok
                sink: wechat
                url: https://example.com/x
              - id: plain
                sink: generic
                url: http://example.com/hook
                secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
              - id: ok
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k2
            """
        #expect(
            try problems(yaml) == [
                "gridcast.yaml:1:11: timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Asia/Shanghai)",
                "gridcast.yaml:3:12: dispatch.timeout: expected a duration such as 250ms, 15s, 5m or 1h, got 'soon'",
                "gridcast.yaml:4:13: dispatch.in_doubt: expected hold or resend, got 'maybe'",
                "gridcast.yaml:6:9: group id 'Bad_ID' is invalid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
                "gridcast.yaml:10:11: group ok: unknown sink 'wechat' (did you mean 'wecom'?); one of wecom, dingtalk, feishu, lark, slack, telegram, discord, teams, generic, wecom-customer-group",
                "gridcast.yaml:14:10: group plain: plain http:// is allowed only to loopback addresses; use https:// for http://example.com/hook",
                "gridcast.yaml:16:9: duplicate group id 'ok' (first defined at gridcast.yaml:9:5)",
            ])
    }

    @Test func yamlSyntaxErrorsHaveALocation() throws {
        let found = try problems("groups:\n  - id: a\n    sink: [wecom\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("gridcast.yaml:4:1: invalid YAML"))
    }

    @Test func discordThreadNameIsReadFromYAMLAndCSVAlike() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write(
            "groups.csv",
            """
            id,sink,url,thread_name
            forum-csv,discord,https://discord.com/api/webhooks/1/tok-csv,每周反诈提醒

            """
        )
        let yaml = """
            groups_file: groups.csv
            groups:
              - id: forum-yaml
                sink: discord
                url: https://discord.com/api/webhooks/2/tok-yaml
                thread_name: 反诈提醒
            """
        let config = try loader.load(path: try directory.write("g.yaml", yaml))
        let byID = Dictionary(uniqueKeysWithValues: config.groups.map { ($0.id, $0.threadName) })
        #expect(byID["forum-yaml"] == "反诈提醒")
        #expect(byID["forum-csv"] == "每周反诈提醒")
    }

    @Test func groupsFileIsReadRelativeToTheConfig() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write(
            "groups.csv",
            #"""
            id,name,sink,url,secret,keyword,tags
            a-1,"凌水, 第1网格",wecom,https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY},,,lingshui;elderly
            a-2,"名字里有""引号""",wecom,https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k2,,,

            """#
        )
        let path = try directory.write("g.yaml", "groups_file: groups.csv\n")
        let config = try loader.load(path: path)
        #expect(config.groups.map(\.id) == ["a-1", "a-2"])
        #expect(config.groups[0].name == "凌水, 第1网格")
        #expect(config.groups[0].tags == ["lingshui", "elderly"])
        #expect(config.groups[0].url.hasSuffix("key=abc123"))
        #expect(config.groups[1].name == #"名字里有"引号""#)
    }

    /// A group reads the same whether it is in the YAML file or the CSV file: the same booleans, the same tag
    /// separators, the same rates and formats.
    @Test func aGroupMeansTheSameInTheYAMLAndTheCSVFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
        let rows: [(id: String, mentionAll: String, tags: String, expected: (MentionAll, [String]))] = [
            ("b-1", "on", "elderly;lingshui", (.always, ["elderly", "lingshui"])),
            ("b-2", "1", "elderly,lingshui", (.always, ["elderly", "lingshui"])),
            ("b-3", "off", " elderly ; lingshui ", (.never, ["elderly", "lingshui"])),
            ("b-4", "0", "elderly", (.never, ["elderly"])),
            ("b-5", "yes", "", (.always, [])),
            ("b-6", "urgent", "", (.urgent, [])),
        ]
        try directory.write(
            "groups.csv",
            "id,name,sink,url,mention_all,tags,rate,format\n"
                + rows.map { "c\($0.id),名,wecom,\(url)c\($0.id),\($0.mentionAll),\"\($0.tags)\",5/min,markdown" }
                .joined(separator: "\n"))
        var yaml = "groups_file: groups.csv\ngroups:\n"
        for row in rows {
            yaml += "  - {id: y\(row.id), sink: wecom, url: \"\(url)y\(row.id)\", mention_all: \"\(row.mentionAll)\""
            yaml += ", tags: \"\(row.tags)\", rate: 5/min, format: markdown}\n"
        }
        let config = try loader.load(path: try directory.write("g.yaml", yaml))
        for row in rows {
            for prefix in ["y", "c"] {
                let group = try #require(config.group(prefix + row.id))
                #expect(group.mentionAll == row.expected.0, "\(prefix)\(row.id) mention_all")
                #expect(group.tags == row.expected.1, "\(prefix)\(row.id) tags")
                #expect(group.rate == RateLimit(parsing: "5/min") && group.format == .markdown)
            }
        }
    }

    @Test func csvFieldsKeepQuotedLineBreaksAndDropStrayCarriageReturns() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
        try directory.write(
            "groups.csv",
            "id,name,sink,url,secret,keyword,tags\r\n"
                + "a-1,\"两行\r\n的名字\",wecom,\(url)k1,,,\" old ;; young ;\"\r\n"
                + "a-2,pla\rin,wecom,\(url)k2,,,x\r\n"
                + "a-3,\"\"\"反诈\"\" 宣讲\",wecom,\(url)k3,,,\r\n"
                + "a-4,no newline at the end,wecom,\(url)k4,,,elderly"
        )
        let config = try loader.load(path: try directory.write("g.yaml", "groups_file: groups.csv\n"))
        #expect(config.groups.map(\.id) == ["a-1", "a-2", "a-3", "a-4"])
        #expect(config.groups.map(\.name) == ["两行\r\n的名字", "plain", "\"反诈\" 宣讲", "no newline at the end"])
        #expect(config.groups.map(\.tags) == [["old", "young"], ["x"], [], ["elderly"]])
        #expect(config.groups.map(\.location?.line) == [2, 4, 5, 6])
    }

    @Test func csvProblemsNameTheirLine() throws {
        let found = try problems(
            """
            groups_file: groups.csv
            groups:
              - id: a-1
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
            """,
            files: [
                "groups.csv": """
                id,name,sink,url,secret,keyword,tags
                a-1,dup,wecom,https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1,,,
                a-2,short,wecom
                a-3,bad sink,dingding,https://oapi.dingtalk.com/robot/send?access_token=t,,,
                a-4,no key,wecom,https://qyapi.weixin.qq.com/cgi-bin/webhook/send,,,

                """
            ]
        )
        #expect(
            found
                == [
                    "groups.csv:2: duplicate group id 'a-1' (first defined at gridcast.yaml:3:5)",
                    "groups.csv:3: expected 7 fields as in the header, found 3",
                    "groups.csv:4: group a-3: unknown sink 'dingding'; one of wecom, dingtalk, feishu, lark, slack, telegram, discord, teams, generic, wecom-customer-group",
                    "groups.csv:5: group a-4: wecom url must carry the robot key as ?key=…",
                ].sorted())
    }

    @Test func csvHeaderMustNameKnownColumns() throws {
        let found = try problems(
            "groups_file: g.csv\n",
            files: ["g.csv": "id,nmae,sink,url\n"]
        )
        #expect(found == ["g.csv:1: unknown column 'nmae' (column 2) (did you mean 'name'?)"])
    }

    @Test func aConfigWithoutGroupsIsRefused() throws {
        #expect(
            try problems("timezone: Asia/Shanghai\n") == [
                "gridcast.yaml:1:1: config defines no groups: add `groups:` or `groups_file:`"
            ])
    }

    @Test func errorsNeverQuoteASecret() throws {
        let yaml = """
            groups:
              - id: leaky
                sink: wecom
                url: http://qyapi.example.com/cgi-bin/webhook/send?key=SUPERSECRETKEY123456
              - id: gen
                sink: generic
                url: https://hooks.example.com/x
                secret: TOPSECRETnotwhsec
            """
        let found = try problems(yaml)
        #expect(found.count == 2)
        for line in found {
            #expect(!line.contains("SUPERSECRETKEY123456"))
            #expect(!line.contains("TOPSECRETnotwhsec"))
        }
    }

    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)), ("15s", .seconds(15)), ("5m", .seconds(300)), ("1h", .seconds(3600)),
        ("1h30m", .seconds(5400)),
    ])
    func durations(text: String, expected: Duration) {
        #expect(DurationSyntax.parse(text) == expected)
    }

    @Test(arguments: ["", "15", "s", "1.5s", "-3s", "10 parsecs"])
    func invalidDurations(text: String) {
        #expect(DurationSyntax.parse(text) == nil)
    }

    @Test func selectorsResolveUnionsInConfigOrder() throws {
        let groups = TestGroups.wecom(6, port: 1)
        let picked = try Selector(parsing: "group:g0005, tag:even").resolve(in: groups)
        #expect(picked.map(\.id) == ["g0000", "g0002", "g0004", "g0005"])
        #expect(try Selector(parsing: "all").resolve(in: groups).map(\.id) == groups.map(\.id))
        #expect(try Selector(parsing: "tag:even, all").resolve(in: groups).map(\.id) == groups.map(\.id))
        #expect(throws: Selector.Failure.self) { try Selector(parsing: "all, group:nobody").resolve(in: groups) }
        #expect(throws: Selector.Failure.self) { try Selector(parsing: "tag:nobody").resolve(in: groups) }
        #expect(throws: Selector.Failure.self) { try Selector(parsing: "group:").resolve(in: groups) }
        #expect(throws: Selector.Failure.self) { try Selector(parsing: "everyone") }
    }

    @Test func urlsAreMaskedForDisplay() {
        #expect(
            SecretMask.maskURL(
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
                == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***")
        #expect(
            SecretMask.maskURL("https://api.telegram.org/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage")
                == "https://api.telegram.org/***/sendMessage")
    }
}
