import Foundation
import GridcastCore
import GridcastTesting
import Testing
import Transport

/// Distinctive secrets in every place a secret can be, every command and API route run at trace
/// level against the emulator with faults, then every output and the ledger's bytes searched for each secret.
@Suite("Secret hygiene: no secret in any output or in the ledger", .serialized)
struct SecretHygieneTests {
    /// The secrets, by name. Each is distinctive enough that a hit can't be a coincidence.
    static let wecomKey = "SECRETWECOMKEY7731a9f2c4e8"
    static let dingToken = "SECRETDINGTOKEN7731b3c5d7e9"
    static let dingSecret = "SECSECRETDINGSIGN7731aa55bb"
    static let feishuHook = "SECRETFEISHUHOOK7731-5e6f-4a1b"
    static let feishuSecret = "SECRETFEISHUSIGN7731cc11"
    static let larkHook = "SECRETLARKHOOK7731dd22ee33"
    static let larkSecret = "SECRETLARKSIGN7731ee44"
    static let telegramToken = "7731000001:SECRETTELEGRAM7731AAbbCC"
    static let slackToken = "SECRETSLACKTOKEN7731zz99yy"
    static let discordToken = "SECRETDISCORDTOKEN7731-xy_7731"
    static let teamsSig = "SECRETTEAMSSIG7731qq88rr"
    static let genericKey = "SECRETGENERICKEY7731!!"
    static let genericSecret = "whsec_" + Data(genericKey.utf8).base64EncodedString()
    static let apiToken = "SECRETAPITOKEN7731abcdefgh"

    static var secrets: [(name: String, value: String)] {
        [
            ("wecom key", wecomKey), ("dingtalk access_token", dingToken), ("dingtalk secret", dingSecret),
            ("feishu hook token", feishuHook), ("feishu secret", feishuSecret), ("lark hook token", larkHook),
            ("lark secret", larkSecret), ("telegram token", telegramToken),
            ("telegram token after the colon", String(telegramToken.split(separator: ":")[1])),
            ("slack token", slackToken), ("discord token", discordToken), ("teams sig", teamsSig),
            ("generic secret", genericSecret),
            ("generic secret's base64", String(genericSecret.dropFirst("whsec_".count))),
            ("generic key bytes", genericKey), ("api token", apiToken),
        ]
    }

    /// Each secret as it could show up: as is, percent-encoded, and Base64 at each of the three byte alignments
    /// (without the characters that depend on what surrounds it).
    static var forms: [(label: String, bytes: [UInt8])] {
        var forms: [(String, [UInt8])] = []
        for (name, value) in secrets {
            forms.append((name, Array(value.utf8)))
            if let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != value {
                forms.append(("\(name), percent-encoded", Array(encoded.utf8)))
            }
            for pad in 0..<3 {
                let encoded = Data((String(repeating: "x", count: pad) + value).utf8).base64EncodedString()
                let core = encoded.dropFirst(pad == 0 ? 0 : 4).dropLast(4)
                forms.append(("\(name), base64+\(pad)", Array(core.utf8)))
            }
        }
        return forms
    }

    /// Which forms of which secrets `bytes` contains.
    static func hits(in bytes: [UInt8]) -> [String] {
        let data = Data(bytes)
        return forms.filter { data.range(of: Data($0.bytes)) != nil }.map(\.label)
    }

    static func groups(port: Int, unreachable: Int) -> [Group] {
        let base = "http://127.0.0.1:\(port)"
        return [
            Group(id: "wecom-ok", name: "企业微信", sink: "wecom", url: "\(base)/cgi-bin/webhook/send?key=${WECOM_KEY}A"),
            Group(id: "wecom-busy", name: "忙", sink: "wecom", url: "\(base)/cgi-bin/webhook/send?key=\(wecomKey)B"),
            Group(id: "wecom-dead", name: "已删", sink: "wecom", url: "\(base)/cgi-bin/webhook/send?key=\(wecomKey)C"),
            Group(
                id: "wecom-unreachable", name: "不通", sink: "wecom",
                url: "http://127.0.0.1:\(unreachable)/cgi-bin/webhook/send?key=\(wecomKey)D"
            ),
            Group(
                id: "ding-1", name: "钉钉", sink: "dingtalk", url: "\(base)/robot/send?access_token=\(dingToken)",
                secret: "${DING_SECRET}", keyword: "反诈"
            ),
            Group(
                id: "feishu-1", name: "飞书", sink: "feishu", url: "\(base)/open-apis/bot/v2/hook/\(feishuHook)",
                secret: feishuSecret
            ),
            Group(
                id: "lark-1", name: "Lark", sink: "lark", url: "\(base)/open-apis/bot/v2/hook/\(larkHook)",
                secret: larkSecret
            ),
            Group(
                id: "tg-1", name: "Telegram", sink: "telegram", url: "\(base)/bot\(telegramToken)/sendMessage",
                chatID: "-1007731"
            ),
            Group(id: "slack-1", name: "Slack", sink: "slack", url: "\(base)/services/T0HYG/B0HYG/\(slackToken)"),
            Group(id: "discord-1", name: "Discord", sink: "discord", url: "\(base)/api/webhooks/7731/\(discordToken)"),
            Group(
                id: "teams-1", name: "Teams", sink: "teams",
                url: "\(base)/workflows/hyg/triggers/manual/paths/invoke?api-version=1&sig=\(teamsSig)"
            ),
            Group(id: "generic-1", name: "通用", sink: "generic", url: "\(base)/hooks/generic-1", secret: genericSecret),
        ].map { group in
            var group = group
            group.rate = .perSecond(1000)
            return group
        }
    }

    static let faults = """
        wecom-busy:
          - {fault: busy, times: 2}
        wecom-dead:
          - {fault: permanent}
        ding-1:
          - {fault: busy}
        feishu-1:
          - {fault: permanent}
        lark-1:
          - {fault: status, status: 503}
        tg-1:
          - {fault: rate-limit, retry_after: 1}
        slack-1:
          - {fault: timeout}
        discord-1:
          - {fault: reset}
        teams-1:
          - {fault: status, status: 500}
        generic-1:
          - {fault: status, status: 503}
          - {fault: permanent}

        """

    /// A config with every kind of mistake next to the secrets.
    static func badConfig(port: Int) -> String {
        """
        dispatch:
          concurency: 4
        groups:
          - id: far-wecom
            sink: wecom
            url: http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=\(wecomKey)
          - id: ftp-telegram
            sink: telegram
            url: ftp://api.telegram.org/bot\(telegramToken)/sendMessage
          - id: ding-nosign
            sink: dingtalk
            url: https://oapi.dingtalk.com/robot/send?acess_token=\(dingToken)
            secrte: \(dingSecret)
          - id: Bad_ID
            sink: feishu
            url: https://open.feishu.cn/open-apis/bot/v2/hook/\(feishuHook)/extra
            secret: ${UNSET_VARIABLE_7731}
          - id: far-wecom
            sink: slak
            url: https://hooks.slack.com/services/T0/B0/\(slackToken)
          - id: generic-raw
            sink: generic
            url: https://example.org/hooks?token=\(apiToken)
            secret: \(genericKey)
          - id: discord-bad
            sink: discord
            url: https://discord.com/api/webhooks/\(discordToken)
          - id: teams-http
            sink: teams
            url: http://prod.westeurope.logic.azure.com/workflows/x/invoke?sig=\(teamsSig)
            mention_all: maybe
        api:
          listen: 127.0.0.1:\(port)
          token: \(apiToken)
          tokne: \(apiToken)
        """
    }

    @Test func noSecretInAnyOutputOrInTheLedger() async throws {
        let directory = try TemporaryDirectory("safety-secrets")
        defer { directory.remove() }
        let (emulatorPort, apiPort, unreachable) = (
            try unusedLoopbackPort(), try unusedLoopbackPort(), try unusedLoopbackPort()
        )
        let ledger = directory.file("ledger.sqlite")
        let groups = Self.groups(port: emulatorPort, unreachable: unreachable)
        let configText = SafetyConfig.yaml(
            groups: groups, ledger: ledger, concurrency: 4, timeout: "1s", attempts: 3,
            extra: "api:\n  listen: 127.0.0.1:\(apiPort)\n  token: ${GRIDCAST_API_TOKEN}\n"
        )
        let config = try directory.write("gridcast.yaml", configText)
        let faults = try directory.write("faults.yaml", Self.faults)
        let environment = [
            "GRIDCAST_LOG_LEVEL": "trace", "WECOM_KEY": Self.wecomKey, "DING_SECRET": Self.dingSecret,
            "GRIDCAST_API_TOKEN": Self.apiToken,
        ]
        var outputs: [(label: String, bytes: [UInt8])] = []
        func record(_ label: String, _ text: String) { outputs.append((label, Array(text.utf8))) }
        func gridcast(_ arguments: [String]) async throws -> GridcastProcess.Result {
            let result = try await GridcastProcess.run(arguments, environment: environment)
            record(arguments.prefix(3).joined(separator: " ") + " (stdout)", result.stdout)
            record(arguments.prefix(3).joined(separator: " ") + " (stderr)", result.stderr)
            return result
        }
        func snapshotLedger(_ moment: String) {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let data = FileManager.default.contents(atPath: ledger + suffix) {
                    outputs.append(("ledger\(suffix) \(moment)", Array(data)))
                }
            }
        }

        // The emulator as an operator runs it for a rehearsal: the same config, secrets and all, and faults.
        let emulator = try WatchedProcess.gridcast(
            [
                "emulate", "--listen", "127.0.0.1:\(emulatorPort)", "--config", config, "--faults", faults,
                "--no-rate-limits",
            ],
            environment: environment
        )
        try await waitUntil { emulator.stdout.contains("listening") }

        // Config checks, good and bad (every kind of error next to a secret), and the schedule preview.
        #expect(try await gridcast(["check", "--config", config]).status == 0)
        let bad = try directory.write("bad.yaml", Self.badConfig(port: apiPort))
        let badCheck = try await gridcast(["check", "--config", bad])
        #expect(badCheck.status == 2)
        #expect(badCheck.stderr.split(separator: "\n").count >= 8, "\(badCheck.stderr)")
        let broken = try directory.write(
            "broken.yaml",
            "groups:\n  - id: x\n    sink: wecom\n    url: \"https://h/cgi-bin/webhook/send?key=\(Self.wecomKey)\n"
        )
        #expect(try await gridcast(["check", "--config", broken]).status == 2)
        try directory.write(
            "groups.csv",
            """
            id,name,sink,url,secret,keyword,tags,mention_all
            c1,群,dingtalk,http://oapi.dingtalk.com/robot/send?access_token=\(Self.dingToken),\(Self.dingSecret),反诈,a,\(Self.dingSecret)
            c2,群,wecom,"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=\(Self.wecomKey)",,,"unterminated

            """
        )
        let csvConfig = try directory.write("csv.yaml", "groups_file: groups.csv\n")
        #expect(try await gridcast(["check", "--config", csvConfig]).status == 2)
        _ = try await gridcast(["schedule", "preview", "--config", config])

        // Sends: successes, retries, rate limits, permanent failures, timeouts, resets, an unreachable host.
        let send = try await gridcast([
            "send", "--config", config, "--to", "all", "--id", "hygiene-1", "--title", "反诈提醒", "--text", "不转账，不透露验证码。",
        ])
        #expect(send.status == 1, "\(send.stdout)\(send.stderr)")
        #expect(send.stdout.contains("dead"), "\(send.stdout)")
        #expect(send.stdout.contains("in_doubt"), "\(send.stdout)")
        snapshotLedger("after send")
        let again = try await gridcast([
            "send", "--config", config, "--to", "group:wecom-ok", "--id", "hygiene-1", "--title", "反诈提醒", "--text",
            "不转账，不透露验证码。",
        ])
        #expect(again.status == 1)

        // Reports and the ledger in every format.
        for period in ["daily", "weekly", "monthly"] {
            for format in ["table", "json", "csv", "markdown"] {
                #expect(try await gridcast(["report", period, "--config", config, "--format", format]).status == 0)
            }
        }
        for format in ["table", "json", "csv"] {
            #expect(try await gridcast(["ledger", "list", "--config", config, "--format", format]).status == 0)
        }
        let inDoubt = try await gridcast(["ledger", "list", "--config", config, "--state", "in_doubt"])
        #expect(inDoubt.stdout.contains("slack-1"), "\(inDoubt.stdout)")
        _ = try await gridcast([
            "ledger", "resolve", "--config", config, "--notice", "hygiene-1", "--group", "slack-1", "--as", "resend",
            "--note", "checked the group",
        ])

        // The daemon and its API: good and bad requests, errors, reports, metrics, a refused reload.
        let daemon = try WatchedProcess.gridcast(["serve", "--config", config], environment: environment)
        let api = APIClient(port: apiPort, token: Self.apiToken)
        try await api.waitUntilServing()
        func answer(_ label: String, _ result: Result<HTTPResponse, TransportError>) throws -> HTTPResponse {
            let response = try result.get()
            let headers = response.headers.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
            outputs.append(("API \(label)", Array(headers.utf8) + response.body))
            return response
        }
        let notice = #"{"id": "hygiene-api", "title": "紧急", "text": "冒充客服退款的都是骗子。", "to": "all", "urgent": true}"#
        #expect(try answer("post", await api.post(notice)).status == 202)
        #expect(try answer("post again", await api.post(notice)).status == 200)
        let conflict = notice.replacingOccurrences(of: "骗子", with: "诈骗")
        #expect(try answer("conflict", await api.post(conflict)).status == 409)
        #expect(try answer("bad json", await api.post(#"{"text": "#)).status == 400)
        #expect(try answer("invalid", await api.post(#"{"text": "x", "to": "group:nope"}"#)).status == 422)
        let big = #"{"text": ""# + String(repeating: "骗", count: 30_000) + #"", "to": "all"}"#
        #expect(try answer("too big", await api.post(big)).status == 413)
        #expect(try answer("no token", await api.post(notice, as: .none)).status == 401)
        let near = String(Self.apiToken.dropLast()) + "x"
        #expect(try answer("wrong token", await api.post(notice, as: .bearer(near))).status == 401)
        try await waitUntil(timeout: .seconds(30)) {
            let counts = await api.counts(notice: "hygiene-api")
            return counts["planned", default: 0] + counts["claimed", default: 0] + counts["retry", default: 0] == 0
                && !counts.isEmpty
        }
        for path in [
            "/v1/notices/hygiene-api", "/v1/notices/hygiene-1", "/v1/notices/nope", "/v1/reports/daily",
            "/v1/reports/daily?date=2026-02-30", "/metrics", "/nowhere",
        ] {
            _ = try answer(path, await api.call("GET", path))
        }
        snapshotLedger("while serving")
        // A reload with the bad config is refused, its problems logged; then the good one comes back.
        try FileManager.default.removeItem(atPath: config)
        try FileManager.default.copyItem(atPath: bad, toPath: config)
        daemon.signal(SIGHUP)
        try await waitUntil { daemon.stderr.contains("reload refused") }
        try configText.write(toFile: config, atomically: true, encoding: .utf8)
        await api.shutdown()
        #expect(await daemon.stop() == 0, "\(daemon.stderr)")
        record("serve (stdout)", daemon.stdout)
        record("serve (stderr)", daemon.stderr)
        daemon.discardOutput()
        snapshotLedger("after serve")
        emulator.signal(SIGKILL)
        _ = await emulator.wait()
        record("emulate (stdout)", emulator.stdout)
        record("emulate (stderr)", emulator.stderr)
        emulator.discardOutput()

        // The run exercised what it claims to: trace lines, a retry, the unreachable host, all of it.
        let serveLog = String(decoding: outputs.first { $0.label == "serve (stderr)" }?.bytes ?? [], as: UTF8.self)
        let sendLog = String(
            decoding: outputs.first { $0.label == "send --config \(config) (stderr)" }?.bytes ?? [], as: UTF8.self)
        #expect(serveLog.contains("level=trace") || serveLog.contains("level=debug"), "trace logging was on")
        #expect(sendLog.contains("curl 7"), "the unreachable host was tried: \(sendLog.suffix(2000))")
        #expect(sendLog.contains("verdict=retry"), "retries were logged")
        #expect(outputs.contains { $0.label.hasPrefix("ledger-wal") }, "the WAL was read while it existed")

        // Zero hits, anywhere.
        for output in outputs {
            let found = Self.hits(in: output.bytes)
            #expect(found.isEmpty, "\(output.label) holds \(found)")
        }
    }
}
