import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing

/// End to end: one config with a group on every platform, a 6,000-byte Chinese notice, the real
/// `gridcast send` binary and the emulator verifying signatures, keywords and limits.
@Suite("Every platform, end to end", .serialized)
struct PlatformEndToEndTests {
    static func groups(port: Int) -> [Group] {
        let base = "http://127.0.0.1:\(port)"
        return [
            Group(id: "wecom-1", name: "企业微信群", sink: "wecom", url: "\(base)/cgi-bin/webhook/send?key=wk-e2e-1"),
            Group(
                id: "ding-1", name: "钉钉群", sink: "dingtalk", url: "\(base)/robot/send?access_token=dt-e2e-1",
                secret: "SECe2e-dingtalk-secret", keyword: "反诈", mentionAll: true
            ),
            Group(
                id: "feishu-1", name: "飞书群", sink: "feishu", url: "\(base)/open-apis/bot/v2/hook/fs-e2e-1",
                secret: "feishu-e2e-secret", keyword: "反诈"
            ),
            Group(
                id: "lark-1", name: "Lark group", sink: "lark", url: "\(base)/open-apis/bot/v2/hook/lk-e2e-1",
                secret: "lark-e2e-secret"
            ),
            Group(id: "slack-1", name: "Slack", sink: "slack", url: "\(base)/services/T0E2E/B0E2E/slackE2Etoken"),
            Group(
                id: "tg-1", name: "Telegram", sink: "telegram", url: "\(base)/bot123456:ABCe2e/sendMessage",
                chatID: "-1001234"
            ),
            Group(id: "discord-1", name: "Discord", sink: "discord", url: "\(base)/api/webhooks/4242/discordE2Etoken"),
            Group(
                id: "teams-1", name: "Teams", sink: "teams",
                url: "\(base)/workflows/e2e/triggers/manual/paths/invoke?api-version=1&sig=teamsE2Esig"
            ),
            TestGroups.generic("generic-1", port: port),
            Group(id: "too-fast", name: "限流群", sink: "wecom", url: "\(base)/cgi-bin/webhook/send?key=wk-e2e-fast"),
            Group(id: "gone", name: "已解散群", sink: "dingtalk", url: "\(base)/robot/send?access_token=dt-e2e-gone"),
        ]
    }

    static let notice: String = {
        let paragraph =
            "近期有骗子冒充“社保局”“医保中心”工作人员打电话，称您的医保卡被冻结、涉嫌违规，需要“配合调查”，随后让您下载陌生App、开启屏幕共享，再把存款转入所谓“安全账户”。请记住：正规机关不会电话办案，更没有安全账户。"
        return (1...20).map { "【第\($0)条】" + paragraph }.joined(separator: "\n\n")
    }()

    @Test func everyGroupGetsEveryPartOnceInOrderWithinItsLimit() async throws {
        #expect(Self.notice.utf8.count >= 6000)
        let directory = try TemporaryDirectory("e2e")
        let server = try await EmulatorServer.start(
            groups: Self.groups(port: 0),
            faults: FaultPlan(faults: [
                "too-fast": [.rateLimit(retryAfter: nil), .rateLimit(retryAfter: nil)], "gone": [.permanent],
            ])
        )
        let groups = Self.groups(port: server.port)
        let yaml = TestGroups.yaml(groups, ledger: directory.file("ledger.sqlite"), concurrency: 8)
        let config = try directory.write("gridcast.yaml", yaml)
        let file = try directory.write("notice.md", Self.notice)

        let result = try await GridcastProcess.run(
            ["send", "--config", config, "--to", "all", "--id", "e2e", "--title", "医保卡诈骗提醒", "--file", file]
        )
        #expect(result.status == 1, "one group is dead: \(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("9 of 11 groups sent, 1 dead, 0 in_doubt, 1 accepted (not confirmed)"))

        let received = try await server.received()
        let notice = Notice(id: "e2e", title: "医保卡诈骗提醒", text: Self.notice)
        for group in groups where group.id != "gone" {
            let sink = try #require(SinkRegistry.standard.sink(named: group.sink))
            let limit = sink.limit(for: group)
            let expected = MessageParts.parts(of: notice, for: group, on: sink)
            let got = received.filter { $0.group == group.id }.map(\.text)
            let visible = got.map(Self.withoutMention)
            #expect(visible == expected, "\(group.id): every part once, in order")
            #expect(got.allSatisfy { limit.measure($0) <= limit.value }, "\(group.id) within \(limit)")
            if let keyword = group.keyword {
                #expect(got.allSatisfy { $0.contains(keyword) }, "\(group.id) carries its keyword")
            }
        }
        #expect(received.filter { $0.group == "wecom-1" }.count >= 3, "6,000 bytes need several WeCom parts")
        #expect(received.filter { $0.group == "gone" }.isEmpty)

        let rows = try await SQLiteLedgerStore(path: directory.file("ledger.sqlite")).deliveries(noticeID: "e2e")
        let gone = try #require(rows.first { $0.groupID == "gone" })
        #expect(gone.state == .dead)
        #expect(gone.attempts == 1)
        let fast = try #require(rows.first { $0.groupID == "too-fast" })
        #expect(fast.state == .sent)
        #expect(fast.attempts == 1, "'too fast' answers spend no attempt")
        try await server.stop()
        directory.remove()
    }

    @Test func teamsDeliveriesAreAcceptedNotSentInTheLedgerTheReportAndTheListing() async throws {
        let directory = try TemporaryDirectory("e2e-teams")
        func teams(_ id: String, port: Int) -> Group {
            Group(
                id: id, name: "Teams \(id)", sink: "teams",
                url: "http://127.0.0.1:\(port)/workflows/\(id)/triggers/manual/paths/invoke?api-version=1&sig=sig-\(id)"
            )
        }
        // The second flow accepts the message (202) and fails to post it: the emulator never shows it.
        let server = try await EmulatorServer.start(
            groups: [teams("flow-ok", port: 0), teams("flow-fails", port: 0)],
            faults: FaultPlan(faults: ["flow-fails": [.acceptedThenLost]]))
        let groups = [teams("flow-ok", port: server.port), teams("flow-fails", port: server.port)]
        let config = try directory.write(
            "gridcast.yaml", TestGroups.yaml(groups, ledger: directory.file("ledger.sqlite"), concurrency: 2))
        let send = try await GridcastProcess.run(
            ["send", "--config", config, "--to", "all", "--id", "teams1", "--title", "提醒", "--text", "不转账"])
        #expect(
            send.stdout.contains("0 of 2 groups sent, 0 dead, 0 in_doubt, 2 accepted (not confirmed)"), "\(send.stdout)"
        )
        #expect(try await server.received().map(\.group) == ["flow-ok"])
        let rows = try await SQLiteLedgerStore(path: directory.file("ledger.sqlite")).deliveries(noticeID: "teams1")
        #expect(rows.map(\.state) == [.accepted, .accepted], "the platform confirmed neither")
        let again = try await GridcastProcess.run([
            "send", "--config", config, "--to", "all", "--id", "teams1", "--title", "提醒", "--text", "不转账",
        ])
        _ = again
        #expect(try await server.requestCount() == 2, "accepted is final: never resent")
        let listing = try await GridcastProcess.run(["ledger", "list", "--config", config, "--notice", "teams1"])
        #expect(listing.stdout.components(separatedBy: "accepted").count - 1 == 2, "\(listing.stdout)")
        let report = try await GridcastProcess.run(["report", "daily", "--config", config, "--format", "json"])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any], "\(report.stdout)")
        #expect(object["accepted"] as? Int == 2)
        #expect(object["sent"] as? Int == 0)
        let perGroup = (object["by_group"] as? [[String: Any]])?.map { $0["accepted"] as? Int }
        #expect(perGroup == [1, 1], "each group's row says accepted, not sent")
        let csv = try await GridcastProcess.run(
            ["report", "daily", "--config", config, "--format", "csv", "--no-bom"])
        #expect(csv.stdout.hasPrefix("date,group_id,group_name,sink,deliveries,sent,dead,in_doubt,queued,accepted,"))
        #expect(csv.stdout.contains(",flow-ok,Teams flow-ok,teams,1,0,0,0,0,1,0,0,0,0,\n"), "\(csv.stdout)")
        let markdown = try await GridcastProcess.run(["report", "daily", "--config", config, "--format", "markdown"])
        #expect(markdown.stdout.contains("| 待发送 | 已受理未确认 |"), "\(markdown.stdout)")
        let verify = try await GridcastProcess.run(["ledger", "verify", "--config", config])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        try await server.stop()
        directory.remove()
    }

    /// What the group sees minus the @-everyone prefix some platforms add in front of the text.
    static func withoutMention(_ text: String) -> String {
        for prefix in ["@everyone ", "<!channel> ", #"<at user_id="all">所有人</at> "#] where text.hasPrefix(prefix) {
            return String(text.dropFirst(prefix.count))
        }
        return text
    }
}
