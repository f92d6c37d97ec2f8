import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing

/// App credentials in the config: `feishu_app` (top level and per group), `wecom_apps`, and the customer groups that
/// name an app instead of a webhook, in YAML and in the groups CSV.
@Suite("AppConfig: feishu_app, wecom_apps and customer groups")
struct AppConfigTests {
    static let feishuSecret = "fs-secret-0123456789"
    static let wecomSecret = "wc-secret-abcdefghij"
    static let environment = ["FEISHU_SECRET": feishuSecret, "WECOM_SECRET": wecomSecret]

    /// Loads `yaml` as `gridcast.yaml` beside `files`: the config, or its problems with the directory stripped.
    func load(
        _ yaml: String, files: [String: String] = [:], environment: [String: String] = Self.environment,
        credentials: EnvironmentExpansion.CredentialUse = .required
    ) throws -> Result<ConfigLoader.Loaded, Problems> {
        let directory = try TemporaryDirectory("app-config")
        defer { directory.remove() }
        for (name, text) in files { try directory.write(name, text) }
        let path = try directory.write("gridcast.yaml", yaml)
        let loader = ConfigLoader(catalog: SinkRegistry.standard, environment: environment, credentials: credentials)
        do {
            return .success(try loader.loaded(path: path))
        } catch {
            return .failure(
                Problems(
                    lines: error.diagnostics.map {
                        $0.description.replacingOccurrences(of: directory.path + "/", with: "")
                    }))
        }
    }

    /// A config's problems as `FILE:LINE:COL: message` lines.
    struct Problems: Error {
        var lines: [String]
    }

    func config(_ yaml: String, files: [String: String] = [:]) throws -> GridcastConfig {
        switch try load(yaml, files: files) {
        case .success(let loaded): return loaded.config
        case .failure(let problems):
            Issue.record("expected a valid config, got \(problems.lines)")
            throw problems
        }
    }

    func problems(_ yaml: String, files: [String: String] = [:]) throws -> [String] {
        switch try load(yaml, files: files) {
        case .success: return []
        case .failure(let problems): return problems.lines
        }
    }

    static let wecomApp = """
        wecom_apps:
          - id: minhang
            corp_id: ww0123456789abcdef
            secret: ${WECOM_SECRET}
            quota: 4/week
            confirm_by: "20:00"
            remind_after: [1h, 3h]

        """

    static let customerGroup = """
          - id: cg-1
            name: 凌水居民群
            sink: wecom-customer-group
            app: minhang
            chat_id: wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA
            owner: zhangsan

        """

    // MARK: feishu_app

    @Test func theTopLevelFeishuAppIsEveryFeishuGroupsAndAGroupsOwnOverridesIt() throws {
        let config = try config(
            """
            feishu_app:
              app_id: cli_top
              app_secret: ${FEISHU_SECRET}
            groups_file: groups.csv
            groups:
              - id: fs-1
                sink: feishu
                url: https://open.feishu.cn/open-apis/bot/v2/hook/aaaa
              - id: lark-1
                sink: lark
                url: https://open.larksuite.com/open-apis/bot/v2/hook/bbbb
                feishu_app: {app_id: cli_own, app_secret: own-secret, api: "https://open.larksuite.com"}
              - id: wc-1
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
            """,
            files: ["groups.csv": "id,sink,url\nfs-csv,feishu,https://open.feishu.cn/open-apis/bot/v2/hook/cccc\n"])
        let apps = config.groups.map(\.feishuApp)
        #expect(apps.map { $0?.appID } == ["cli_top", "cli_own", nil, "cli_top"])
        #expect(apps.map { $0?.api } == [nil, "https://open.larksuite.com", nil, nil])
        #expect(apps[0]?.appSecret == Self.feishuSecret)
        #expect(apps[0]?.location?.line == 1)
        // The app secret is one of the group's secrets: whatever a receiver sends back is redacted of it.
        #expect(config.group("fs-1")?.secrets.contains(Self.feishuSecret) == true)
        #expect(config.group("lark-1")?.secrets.contains("own-secret") == true)
        #expect(config.group("wc-1")?.secrets.contains(Self.feishuSecret) == false)
    }

    @Test func feishuAppProblemsAreReportedAtTheirPlace() throws {
        let found = try problems(
            """
            feishu_app:
              app_id: ""
              app_secert: x
              api: http://open.feishu.cn
            groups:
              - id: fs-1
                sink: feishu
                url: https://open.feishu.cn/open-apis/bot/v2/hook/aaaa
                feishu_app:
                  app_id: cli_1
              - id: wc-1
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
                feishu_app: {app_id: cli_2, app_secret: "${FEISHU_SECRET}"}
            """)
        #expect(
            found == [
                "gridcast.yaml:1:1: feishu_app: missing required key 'app_secret'",
                "gridcast.yaml:2:11: feishu_app.app_id: a value is required, not an empty one",
                "gridcast.yaml:3:3: feishu_app: unknown key 'app_secert' (did you mean 'app_secret'?)",
                "gridcast.yaml:4:8: feishu_app.api: plain http:// is allowed only to loopback addresses; use https:// for http://open.feishu.cn",
                "gridcast.yaml:9:5: groups[0].feishu_app: missing required key 'app_secret'",
                "gridcast.yaml:14:5: group wc-1: feishu_app is for feishu and lark groups; sink wecom has none",
            ])
        #expect(!found.contains { $0.contains(Self.feishuSecret) })
    }

    @Test func anAppAPIMayBeHTTPToLoopbackOnly() throws {
        let yaml = """
            feishu_app: {app_id: cli_1, app_secret: s, api: "http://127.0.0.1:8000"}
            wecom_apps:
              - {id: local, corp_id: ww1, secret: s, api: "http://localhost:9000"}
              - {id: remote, corp_id: ww1, secret: s, api: "ftp://qyapi.example.org"}
            groups:
              - id: fs-1
                sink: feishu
                url: http://127.0.0.1:8000/open-apis/bot/v2/hook/aaaa
            """
        #expect(
            try problems(yaml) == [
                "gridcast.yaml:4:48: wecom_apps[1].api: url scheme 'ftp' is not allowed: use https:// (http:// only to loopback addresses)"
            ])
        let config = try config(yaml.replacingOccurrences(of: "ftp://", with: "https://"))
        #expect(config.wecomApps.map(\.api) == ["http://localhost:9000", "https://qyapi.example.org"])
        #expect(config.groups[0].feishuApp?.baseURL(forWebhook: config.groups[0].url) == "http://127.0.0.1:8000")
    }

    // MARK: wecom_apps

    @Test func wecomAppsAreReadWithTheModelsDefaults() throws {
        let config = try config(
            Self.wecomApp + """
                  - id: pudong
                    corp_id: ww2
                    secret: plain-secret
                    api: https://gov.example.cn/
                    quota: 1/day
                    confirm_within: 2h
                    remind_after: [30m]
                    poll: 30s
                  - id: defaults
                    corp_id: ww3
                    secret: s3
                groups:
                """ + "\n" + Self.customerGroup)
        #expect(config.wecomApps.map(\.id) == ["minhang", "pudong", "defaults"])
        let minhang = try #require(config.wecomApp("minhang"))
        #expect(minhang.corpID == "ww0123456789abcdef")
        #expect(minhang.secret == Self.wecomSecret)
        #expect(minhang.api == WeComApp.defaultAPI)
        #expect(minhang.quota == .perWeek(4))
        #expect(minhang.confirmDeadline == .by(hour: 20, minute: 0))
        #expect(minhang.remindAfter == [.seconds(3600), .seconds(3 * 3600)])
        #expect(minhang.poll == .seconds(300))
        #expect(minhang.location?.line == 2)
        let pudong = try #require(config.wecomApp("pudong"))
        #expect(pudong.api == "https://gov.example.cn/")
        #expect(pudong.quota == .perDay(1))
        #expect(pudong.confirmDeadline == .within(.seconds(7200)))
        #expect(pudong.remindAfter == [.seconds(1800)])
        #expect(pudong.poll == .seconds(30))
        let defaults = try #require(config.wecomApp("defaults"))
        let model = WeComApp(id: "defaults", corpID: "ww3", secret: "s3")
        #expect(defaults.quota == model.quota)
        #expect(defaults.confirmDeadline == model.confirmDeadline)
        #expect(defaults.remindAfter == model.remindAfter)
        #expect(defaults.poll == model.poll)
        // Every app's secret is one of the config's: redacted wherever text may have picked it up.
        #expect(config.secrets.contains(Self.wecomSecret))
        #expect(config.secrets.contains("plain-secret"))
    }

    @Test func wecomAppProblemsAreReportedAtTheirPlace() throws {
        let found = try problems(
            """
            wecom_apps:
              - id: Min_Hang
                corp_id: ww1
                secret: s
                quota: 0/day
                confirm_by: "25:00"
                confirm_within: 2h
              - id: dup
                corp_id: ww1
                secret: s
                quota: 3/month
                poll: 10s
                quoto: 1/day
              - id: dup
                corp_id: ww1
                secret: ""
              - id: reminders
                corp_id: ww1
                confirm_within: 2h
                remind_after: [30m, 20m, 2h, 3h]
              - corp_id: ww1
                secret: s
                remind_after: 1h
            groups:
              - id: w
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
            """)
        #expect(
            found == [
                "gridcast.yaml:2:9: wecom app id 'Min_Hang' is invalid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
                "gridcast.yaml:5:12: wecom_apps[0].quota: expected days-of-month, N/week or N/day (N at least 1), got '0/day'",
                "gridcast.yaml:6:17: wecom_apps[0].confirm_by: expected a time of day such as \"20:00\", got '25:00'",
                "gridcast.yaml:7:21: wecom app Min_Hang: give confirm_by or confirm_within, not both",
                "gridcast.yaml:11:12: wecom_apps[1].quota: expected days-of-month, N/week or N/day (N at least 1), got '3/month'",
                "gridcast.yaml:12:11: wecom_apps[1].poll: at least 30s, got 10s",
                "gridcast.yaml:13:5: wecom_apps[1]: unknown key 'quoto' (did you mean 'quota'?)",
                "gridcast.yaml:14:9: duplicate wecom_apps id 'dup' (first defined at gridcast.yaml:8:5)",
                "gridcast.yaml:16:13: wecom_apps[2].secret: a value is required, not an empty one",
                "gridcast.yaml:17:5: wecom app reminders: missing required key 'secret'",
                "gridcast.yaml:20:25: wecom_apps[3].remind_after: 20m is not after 30m: list reminders in ascending order",
                "gridcast.yaml:20:30: wecom_apps[3].remind_after: 2h is not before the deadline (confirm_within 2h)",
                "gridcast.yaml:20:34: wecom_apps[3].remind_after: at most 3 reminders, got 4",
                "gridcast.yaml:20:34: wecom_apps[3].remind_after: 3h is not before the deadline (confirm_within 2h)",
                "gridcast.yaml:21:5: wecom_apps[4]: missing required key 'id'",
                "gridcast.yaml:23:19: wecom_apps[4].remind_after: expected a list of durations such as [30m, 2h]",
            ])
    }

    @Test func quotasAndDeadlinesReadAsTheyAreWritten() {
        for text in ["days-of-month", "1/day", "4/week", "30/day"] {
            #expect(MassMessageQuota(parsing: text)?.description == text)
        }
        for text in ["", "0/week", "-1/day", "+1/day", "1/month", "1 /day", "day", "1/", "/day", "days_of_month"] {
            #expect(MassMessageQuota(parsing: text) == nil, "\(text)")
        }
        #expect(ConfirmDeadline.by(hour: 8, minute: 5).description == "by 08:05")
        #expect(ConfirmDeadline.within(.seconds(5400)).description == "within 90m")
    }

    // MARK: customer groups

    @Test func aCustomerGroupNamesAnAppAChatAndAnOwnerAndNoURL() throws {
        let config = try config(
            "mention_all: true\n" + Self.wecomApp + "groups:\n" + Self.customerGroup + """
                  - id: wc-1
                    sink: wecom
                    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
                """)
        let group = try #require(config.group("cg-1"))
        #expect(group.isCustomerGroup)
        #expect(group.url == "")
        #expect(group.app == "minhang")
        #expect(group.chatID == "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA")
        #expect(group.owner == "zhangsan")
        #expect(group.feishuApp == nil)
        // The top-level mention_all is for groups that can mention everyone.
        #expect(group.mentionAll == .never)
        #expect(config.group("wc-1")?.mentionAll == .always)
        #expect(SinkRegistry.standard.sink(named: group.sink) == nil)
        #expect(SinkRegistry.standard.problems(for: group) == [])
    }

    @Test func customerGroupProblemsAreReportedAtTheirPlace() throws {
        let found = try problems(
            Self.wecomApp + """
                groups:
                  - id: cg-url
                    sink: wecom-customer-group
                    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-secret-123
                    app: minhang
                    chat_id: wr1
                    owner: zhangsan
                  - id: cg-bare
                    sink: wecom-customer-group
                  - id: cg-typo
                    sink: wecom-customer-group
                    app: minhnag
                    chat_id: wr2
                    owner: lisi
                  - id: cg-webhook-keys
                    sink: wecom-customer-group
                    app: minhang
                    chat_id: wr3
                    owner: lisi
                    secret: whsec_abc
                    keyword: 反诈
                    mention_all: urgent
                    format: markdown
                    rate: 1/s
                    thread_id: "7"
                  - id: wc-1
                    sink: wecom
                    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
                    app: minhang
                    owner: lisi
                """)
        #expect(
            found == [
                "gridcast.yaml:11:10: group cg-url: url: customer groups are reached through the app, not a webhook; remove it",
                "gridcast.yaml:15:5: group cg-bare: wecom-customer-group needs app: the id of the wecom_apps entry that sends to it",
                "gridcast.yaml:15:5: group cg-bare: wecom-customer-group needs chat_id: the customer group's chat_id",
                "gridcast.yaml:15:5: group cg-bare: wecom-customer-group needs owner: the userid of the member who owns the group and confirms its messages",
                "gridcast.yaml:19:10: group cg-typo: app 'minhnag' is not in wecom_apps (did you mean 'minhang'?); one of minhang",
                "gridcast.yaml:27:13: group cg-webhook-keys: secret does not apply to a customer group: there is no webhook to sign",
                "gridcast.yaml:28:14: group cg-webhook-keys: keyword does not apply to a customer group: there is no custom bot to demand one",
                "gridcast.yaml:29:18: group cg-webhook-keys: mention_all does not apply to a customer group: a mass message can't mention everyone",
                "gridcast.yaml:30:13: group cg-webhook-keys: format does not apply to a customer group: mass messages are text",
                "gridcast.yaml:31:11: group cg-webhook-keys: rate does not apply to a customer group: its pace is the app's quota",
                "gridcast.yaml:32:16: group cg-webhook-keys: thread_id is a Telegram forum topic; sink wecom-customer-group has none",
                "gridcast.yaml:36:10: group wc-1: app is for wecom-customer-group groups; sink wecom has none",
                "gridcast.yaml:37:12: group wc-1: owner is for wecom-customer-group groups; sink wecom has none",
            ])
        #expect(!found.contains { $0.contains("k-secret-123") || $0.contains(Self.wecomSecret) })
    }

    @Test func aCustomerGroupNeedsTheConfigToHaveItsApp() throws {
        #expect(
            try problems("groups:\n" + Self.customerGroup) == [
                "gridcast.yaml:5:10: group cg-1: app 'minhang' is not in wecom_apps; the config has no wecom_apps"
            ])
        // A webhook group still needs its url.
        #expect(
            try problems("groups:\n  - id: w\n    sink: wecom\n") == [
                "gridcast.yaml:2:5: group w: missing required key 'url'"
            ])
    }

    @Test func aShortenedCustomerGroupSinkIsSuggestedInFull() throws {
        for typed in ["wecom-customer", "wecom-customer-groups"] {
            let found = try problems(
                Self.wecomApp + "groups:\n"
                    + Self.customerGroup.replacingOccurrences(of: "sink: wecom-customer-group", with: "sink: \(typed)"))
            let message =
                "group cg-1: unknown sink '\(typed)' (did you mean 'wecom-customer-group'?); one of "
                + SinkRegistry.standard.sinkNames.joined(separator: ", ")
            // Nothing about its url, app or owner: the sink it meant is not known.
            #expect(found == ["gridcast.yaml:11:11: " + message])
            let csv = try problems(
                Self.wecomApp + "groups_file: groups.csv\n",
                files: ["groups.csv": "id,sink,url,app,chat_id,owner\ncg-1,\(typed),,minhang,wr1,zs\n"])
            #expect(csv == ["groups.csv:2: " + message])
        }
    }

    // MARK: the groups CSV

    @Test func aGroupsFileOfCustomerGroupsNeedsNoURLColumn() throws {
        let config = try config(
            Self.wecomApp + "groups_file: groups.csv\n",
            files: [
                "groups.csv": """
                id,name,sink,app,chat_id,owner,tags
                cg-1,凌水居民1群,wecom-customer-group,minhang,wr1,zhangsan,lingshui
                cg-2,凌水居民2群,wecom-customer-group,minhang,wr2,lisi,lingshui;elderly

                """
            ])
        #expect(config.groups.map(\.id) == ["cg-1", "cg-2"])
        #expect(config.groups.map(\.app) == ["minhang", "minhang"])
        #expect(config.groups.map(\.chatID) == ["wr1", "wr2"])
        #expect(config.groups.map(\.owner) == ["zhangsan", "lisi"])
        #expect(config.groups.map(\.url) == ["", ""])
        #expect(config.groups[1].tags == ["lingshui", "elderly"])
    }

    @Test func customerGroupRowsAreCheckedLikeYAMLGroupsWithTheirLine() throws {
        let found = try problems(
            Self.wecomApp + "groups_file: groups.csv\n",
            files: [
                "groups.csv": """
                id,sink,url,secret,app,chat_id,owner
                cg-1,wecom-customer-group,,,minhang,wr1,zhangsan
                cg-url,wecom-customer-group,https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-secret-123,,minhang,wr2,lisi
                cg-typo,wecom-customer-group,,,pudong,wr3,lisi
                cg-bare,wecom-customer-group,,,,,
                cg-secret,wecom-customer-group,,whsec_abc,minhang,wr4,lisi
                wc-1,wecom,https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k,,,,
                wc-empty,wecom,,,,,
                wc-owner,wecom,https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k2,,,,lisi

                """
            ])
        #expect(
            found == [
                "groups.csv:3: group cg-url: url: customer groups are reached through the app, not a webhook; remove it",
                "groups.csv:4: group cg-typo: app 'pudong' is not in wecom_apps; one of minhang",
                "groups.csv:5: group cg-bare: wecom-customer-group needs app: the id of the wecom_apps entry that sends to it",
                "groups.csv:5: group cg-bare: wecom-customer-group needs chat_id: the customer group's chat_id",
                "groups.csv:5: group cg-bare: wecom-customer-group needs owner: the userid of the member who owns the group and confirms its messages",
                "groups.csv:6: group cg-secret: secret does not apply to a customer group: there is no webhook to sign",
                "groups.csv:8: group wc-empty: sink and url are required",
                "groups.csv:9: group wc-owner: owner is for wecom-customer-group groups; sink wecom has none",
            ])
        #expect(!found.contains { $0.contains("k-secret-123") || $0.contains("whsec_abc") })
    }

    @Test func aGroupsFileWithWebhookGroupsStillNeedsTheURLColumn() throws {
        #expect(
            try problems(
                Self.wecomApp + "groups_file: groups.csv\n",
                files: [
                    "groups.csv": "id,sink,app,chat_id,owner\ncg-1,wecom-customer-group,minhang,wr1,zs\nw,wecom,,,\n"
                ]) == ["groups.csv:1: header lacks the required column 'url'"])
    }

    // MARK: secrets and commands that don't send

    @Test func readOnlyCommandsLeaveUnsetAppSecretsAlone() throws {
        let yaml = """
            feishu_app:
              app_id: cli_top
              app_secret: ${FEISHU_SECRET}
            wecom_apps:
              - id: minhang
                corp_id: ${WECOM_CORP}
                secret: ${WECOM_SECRET}
            groups:
              - id: fs-1
                sink: feishu
                url: https://open.feishu.cn/open-apis/bot/v2/hook/aaaa
            """ + "\n" + Self.customerGroup
        guard case .success(let loaded) = try load(yaml, environment: [:], credentials: .deferred) else {
            Issue.record("a command that doesn't send must load without the app secrets")
            return
        }
        #expect(loaded.config.groups.map(\.id) == ["fs-1", "cg-1"])
        #expect(Set(loaded.deferred.flatMap(\.variables)) == ["FEISHU_SECRET", "WECOM_CORP", "WECOM_SECRET"])
        #expect(
            loaded.deferred.map(\.field).sorted() == [
                "feishu_app.app_secret", "wecom_apps[0].corp_id", "wecom_apps[0].secret",
            ])
        guard case .failure(let problems) = try load(yaml, environment: [:]) else {
            Issue.record("a command that sends needs every app secret")
            return
        }
        #expect(
            problems.lines == [
                "gridcast.yaml:3:15: feishu_app.app_secret: environment variable FEISHU_SECRET is not set",
                "gridcast.yaml:6:14: wecom_apps[0].corp_id: environment variable WECOM_CORP is not set",
                "gridcast.yaml:7:13: wecom_apps[0].secret: environment variable WECOM_SECRET is not set",
            ])
    }

    @Test func checkSummarizesTheAppsWithoutTheirSecrets() async throws {
        let directory = try TemporaryDirectory("app-check")
        defer { directory.remove() }
        let path = try directory.write(
            "gridcast.yaml",
            """
            ledger:
              path: var/l.sqlite
            feishu_app:
              app_id: cli_top
              app_secret: ${FEISHU_SECRET}
            """ + "\n" + Self.wecomApp + """
                  - id: gov
                    corp_id: ww2
                    secret: gov-secret-9876543210
                    api: https://wecom.gov.example.cn:8443
                    confirm_within: 90m
                groups:
                  - id: fs-1
                    sink: feishu
                    url: https://open.feishu.cn/open-apis/bot/v2/hook/aaaa
                  - id: fs-2
                    sink: lark
                    url: https://open.larksuite.com/open-apis/bot/v2/hook/bbbb
                    feishu_app: {app_id: cli_lark, app_secret: lark-secret-555, api: "https://open.larksuite.com"}
                """ + "\n" + Self.customerGroup)
        let check = try await GridcastProcess.run(["check", "--config", path], environment: Self.environment)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("3 groups (feishu 1, lark 1, wecom-customer-group 1)"), "\(check.stdout)")
        #expect(
            check.stdout.contains(
                "; wecom apps: minhang (qyapi.weixin.qq.com, quota 4/week, confirm by 20:00, 1 group), "
                    + "gov (wecom.gov.example.cn:8443, quota days-of-month, confirm within 90m, 0 groups)"),
            "\(check.stdout)")
        #expect(
            check.stdout.contains(
                "; feishu apps: cli_top (the webhook's host, 1 group), cli_lark (open.larksuite.com, 1 group)"),
            "\(check.stdout)")
        for secret in [Self.feishuSecret, Self.wecomSecret, "gov-secret-9876543210", "lark-secret-555"] {
            #expect(!check.stdout.contains(secret) && !check.stderr.contains(secret), "\(secret)")
        }
        // Without the variables, --ledger-only names them and still summarizes the apps.
        let ledgerOnly = try await GridcastProcess.run(
            ["check", "--ledger-only", "--config", path])
        #expect(ledgerOnly.status == 0, "\(ledgerOnly.stderr)")
        #expect(ledgerOnly.stdout.contains("wecom apps: minhang (qyapi.weixin.qq.com"), "\(ledgerOnly.stdout)")
    }
}
