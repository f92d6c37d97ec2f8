import Emulator
import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

/// The platforms' real limits and answers (`docs/sinks.md`, "Limits and pacing" and "Answers"): long notices through
/// the real dispatcher, libcurl and SQLite ledger to an emulator that enforces each platform's rules, in virtual time.
@Suite("Platform limits and answers, end to end in virtual time", .serialized)
struct PlatformLimitTests {
    struct Rig {
        let server: EmulatorServer
        let store: SQLiteLedgerStore
        let transport: CurlTransport
        let config: GridcastConfig
        let clock: VirtualClock
        let directory: TemporaryDirectory

        /// Plans `notice` for every group and drains it.
        func send(_ notice: Notice) async throws {
            let plan = try Planner(config: config, sinks: .standard).plan(
                notice, to: try Selector(parsing: "all"), origin: "test", now: clock.now())
            _ = try await store.plan(plan)
            _ = try await Dispatcher(store: store, transport: transport, sinks: .standard, config: config, clock: clock)
                .drain(noticeID: nil)
        }

        func row(_ group: String) async throws -> DeliveryRecord {
            try #require(
                try await store.deliveries(changedFrom: .distantPast, to: .distantFuture).first { $0.groupID == group })
        }

        func received(_ group: String) async throws -> [ReceivedMessage] {
            try await server.received().filter { $0.group == group }
        }

        func requests(_ group: String) async throws -> [EmulatedRequestRecord] {
            try await server.requestLog().filter { $0.group == group }
        }

        func close() async throws {
            await transport.shutdown()
            try await server.stop()
            directory.remove()
        }
    }

    /// A rig whose emulator enforces every limit; `dispatch.rate_limit_pause` is the default 60 s.
    static func rig(_ groups: [Group], faults: [String: [FaultPlan.Fault]] = [:]) async throws -> Rig {
        let clock = VirtualClock()
        let directory = try TemporaryDirectory("limits")
        let server = try await EmulatorServer.start(
            groups: groups, faults: FaultPlan(faults: faults), clock: { clock.now() })
        let placed = groups.map { group in
            var moved = group
            moved.url = group.url.replacingOccurrences(of: ":0/", with: ":\(server.port)/")
            return moved
        }
        var config = TestGroups.config(placed, ledger: directory.file("ledger.sqlite"), concurrency: 1)
        config.dispatch.rateLimitPause = .seconds(60)
        config.dispatch.maxParts = 10
        return Rig(
            server: server, store: try SQLiteLedgerStore(path: config.ledger.path), transport: CurlTransport(),
            config: config, clock: clock, directory: directory)
    }

    /// Many short lines with quotes: each line costs more in the JSON body than in the text (`\n` and `\"`).
    static let shortLines = (1...1200).map { #"\#($0). 接到"客服"电话，先挂断再核实"# }.joined(separator: "\n")

    /// What a part holds without its keyword and `(i/n) ` marker.
    static func piece(_ text: String, keyword: String) -> String {
        let unkeyed = text.hasPrefix("【\(keyword)】") ? String(text.dropFirst(keyword.count + 2)) : text
        guard unkeyed.hasPrefix("("), let marker = unkeyed.range(of: ") ") else { return unkeyed }
        return String(unkeyed[marker.upperBound...])
    }

    static let dingtalk = Group(
        id: "ding", name: "钉钉群", sink: "dingtalk", url: "http://127.0.0.1:0/robot/send?access_token=dt-limit",
        secret: "SEClimit-dingtalk-secret", keyword: "反诈", mentionAll: true)
    static let feishu = Group(
        id: "feishu", name: "飞书群", sink: "feishu", url: "http://127.0.0.1:0/open-apis/bot/v2/hook/fs-limit",
        secret: "feishu-limit-secret", keyword: "反诈", mentionAll: true)
    static let discord = Group(
        id: "discord", name: "Discord", sink: "discord", url: "http://127.0.0.1:0/api/webhooks/4242/dc-limit",
        mentionAll: true)
    static let slack = Group(
        id: "slack", name: "Slack", sink: "slack", url: "http://127.0.0.1:0/services/T0/B0/slack-limit")

    /// DingTalk and Feishu limit the request body: a notice of many short lines whose text fits the budget but
    /// whose JSON body would not arrives whole, every part within the body limit, @all on the first part only.
    @Test(arguments: [Self.dingtalk, Self.feishu])
    func aLongNoticeOfShortLinesStaysWithinTheBodyLimit(group: Group) async throws {
        let rig = try await Self.rig([group])
        try await rig.send(Notice(id: "lines", title: "", text: Self.shortLines))
        let row = try await rig.row(group.id)
        #expect(row.state == .sent, "\(row.lastError ?? "")")
        let received = try await rig.received(group.id)
        #expect(received.count == row.partsTotal)
        #expect(received.count >= 3)
        #expect(received.map { Self.piece($0.text, keyword: "反诈") }.joined() == Self.shortLines)
        #expect(received.map(\.mentionAll) == received.indices.map { $0 == 0 }, "@all on the first part only")
        #expect(try await rig.requests(group.id).allSatisfy { $0.status == 200 })
        try await rig.close()
    }

    /// A full first part still has room for `@everyone `: Discord counts it in the 2,000 characters.
    @Test func discordsEveryoneFitsInTheFirstPart() async throws {
        let text = String(repeating: "不回拨、不轻信、不点击、不透露、不转账。", count: 160)
        let rig = try await Self.rig([Self.discord])
        try await rig.send(Notice(id: "long", title: "", text: text))
        let row = try await rig.row("discord")
        #expect(row.state == .sent, "\(row.lastError ?? "")")
        let received = try await rig.received("discord")
        #expect(received.count == 2)
        #expect(received.map { Self.piece($0.text, keyword: "-") }.joined() == text)
        #expect(received.map(\.mentionAll) == [true, false])
        try await rig.close()
    }

    /// A webhook URL without an API version gets v6 answers, whose waits are milliseconds: a 3 s wait is 3 s.
    @Test func discordsRetryAfterIsReadInItsUnits() async throws {
        let rig = try await Self.rig([Self.discord], faults: ["discord": [.rateLimit(retryAfter: 3)]])
        try await rig.send(Notice(id: "short", title: "", text: "不回拨、不轻信"))
        #expect(try await rig.row("discord").state == .sent)
        let requests = try await rig.requests("discord")
        try #require(requests.count == 2)
        let gap = requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt)
        #expect(gap >= 3 && gap < 10, "waited \(gap) s for a 3 s Retry-After")
        try await rig.close()
    }

    /// A forum channel needs `thread_name`: the group's goes in the body, and the post is accepted.
    @Test func discordSendsTheGroupsThreadName() async throws {
        var group = Self.discord
        group.threadName = "反诈提醒"
        group.mentionAll = .never
        let rig = try await Self.rig([group])
        try await rig.send(Notice(id: "forum", title: "", text: "不回拨、不轻信"))
        #expect(try await rig.row("discord").state == .sent)
        let placed = try #require(rig.config.groups.first)
        let message = OutgoingMessage(
            deliveryID: "d", notice: Notice(id: "forum", title: "", text: "x"), noticeCreatedAt: Date(),
            group: placed, text: "x")
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data(try DiscordSink().request(for: message, now: Date()).body))
                as? [String: Any])
        #expect(body["thread_name"] as? String == "反诈提醒")
        try await rig.close()
    }

    /// Slack reads `<…>` as a link or mention: the text's `&`, `<` and `>` are escaped, so the group reads every word.
    @Test func slackKeepsTheWordsBetweenAngleBrackets() async throws {
        let text = "对方说的 <安全账户> & <资金核查> 都是骗局，金额 < 1000 元也别转"
        let rig = try await Self.rig([Self.slack])
        try await rig.send(Notice(id: "angle", title: "", text: text))
        #expect(try await rig.received("slack").map(\.text) == [text])
        try await rig.close()
    }

    /// `130101` locks a DingTalk robot for ten minutes: the robot waits them out once, instead of asking every
    /// `rate_limit_pause` and being refused each time.
    @Test func dingTalksTooFastWaitsOutTheTenMinuteLockout() async throws {
        let rig = try await Self.rig([Self.dingtalk], faults: ["ding": [.rateLimit(retryAfter: nil)]])
        try await rig.send(Notice(id: "locked", title: "", text: "不回拨、不轻信"))
        let row = try await rig.row("ding")
        #expect(row.state == .sent)
        #expect(row.attempts == 1)
        let requests = try await rig.requests("ding")
        #expect(requests.map(\.status) == [200, 200])
        try #require(requests.count == 2, "one refusal, then sent after the lockout")
        #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) >= 600)
        try await rig.close()
    }

    /// `90030` (a quota) pauses the robot like `130101`; it is not a permanent failure.
    @Test func dingTalksQuotaPausesAndIsNotDead() async throws {
        let quota = FaultPlan.Fault.answer(200, #"{"errcode":90030,"errmsg":"robot quota exceeded"}"#)
        let rig = try await Self.rig([Self.dingtalk], faults: ["ding": [quota]])
        try await rig.send(Notice(id: "quota", title: "", text: "不回拨、不轻信"))
        let row = try await rig.row("ding")
        #expect(row.state == .sent, "\(row.lastError ?? "")")
        #expect(row.attempts == 1)
        let requests = try await rig.requests("ding")
        try #require(requests.count == 2)
        #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) >= 600)
        try await rig.close()
    }
}

/// The emulator refuses what the platforms refuse: whole-body limits, per-second rates, Discord's headers and units.
@Suite("The emulator fails where the platform fails")
struct EmulatorLimitTests {
    /// Posts `body` as JSON to `path` on an emulator configured with `group`, all at one instant, `count` times.
    static func post(
        _ body: String, to group: Group, count: Int = 1, path: ((Int) -> String)? = nil
    ) async throws -> [HTTPResponse] {
        let instant = Date()
        let server = try await EmulatorServer.start(groups: [group], clock: { instant })
        let transport = CurlTransport()
        var responses: [HTTPResponse] = []
        let url = path.map { "http://127.0.0.1:\(server.port)" + $0(server.port) }
        for _ in 0..<count {
            let target = url ?? group.url.replacingOccurrences(of: ":0/", with: ":\(server.port)/")
            let request = HTTPRequest(
                url: target, headers: [HTTPHeader("Content-Type", "application/json")], body: Array(body.utf8),
                timeout: .seconds(5))
            responses.append(try await transport.send(request).get())
        }
        await transport.shutdown()
        try await server.stop()
        return responses
    }

    static func json(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    @Test func dingTalkLimitsTheWholeBody() async throws {
        let group = Group(
            id: "d", name: "钉钉", sink: "dingtalk", url: "http://127.0.0.1:0/robot/send?access_token=dt-body")
        let text = String(repeating: "\"\n", count: 6000) + String(repeating: "x", count: 7000)
        #expect(text.utf8.count < 20000)
        let answer = try await Self.post(#"{"msgtype":"text","text":{"content":"\#(Self.json(text))"}}"#, to: group)
        #expect(answer.first?.bodyText == #"{"errcode":460101,"errmsg":"message too long"}"#)
        let fits = try await Self.post(#"{"msgtype":"text","text":{"content":"不转账"}}"#, to: group)
        #expect(fits.first?.bodyText == #"{"errcode":0,"errmsg":"ok"}"#)
    }

    @Test func feishuLimitsTheWholeBodyAndFiveASecond() async throws {
        let group = Group(
            id: "f", name: "飞书", sink: "feishu", url: "http://127.0.0.1:0/open-apis/bot/v2/hook/fs-body")
        let text = String(repeating: "\"\n", count: 6000) + String(repeating: "x", count: 7000)
        let big = try await Self.post(#"{"msg_type":"text","content":{"text":"\#(Self.json(text))"}}"#, to: group)
        #expect(big.first?.bodyText.contains(#""code":9499"#) == true)
        let burst = try await Self.post(#"{"msg_type":"text","content":{"text":"不转账"}}"#, to: group, count: 6)
        #expect(burst.prefix(5).allSatisfy { $0.bodyText.contains(#""code":0"#) })
        #expect(burst.last?.bodyText.contains(#""code":11232"#) == true)
    }

    @Test func slackTakesOneMessageASecond() async throws {
        let group = Group(id: "s", name: "Slack", sink: "slack", url: "http://127.0.0.1:0/services/T0/B0/sl-rate")
        let answers = try await Self.post(#"{"text":"不转账"}"#, to: group, count: 2)
        #expect(answers.map(\.status) == [200, 429])
        #expect(answers.last?.header("retry-after") == "1")
    }

    @Test func discordAnswersCarryRateLimitHeadersAndV6WaitsAreMilliseconds() async throws {
        let group = Group(
            id: "c", name: "Discord", sink: "discord", url: "http://127.0.0.1:0/api/webhooks/77/dc-rate")
        let body = #"{"content":"不转账"}"#
        let v6 = try await Self.post(body, to: group, count: 6, path: { _ in "/api/webhooks/77/dc-rate?wait=true" })
        #expect(v6.prefix(5).map(\.status) == [200, 200, 200, 200, 200])
        #expect(v6.prefix(5).map { $0.header("x-ratelimit-remaining") } == ["4", "3", "2", "1", "0"])
        #expect(v6.allSatisfy { $0.header("x-ratelimit-limit") == "5" && $0.header("x-ratelimit-reset-after") != nil })
        #expect(v6.last?.status == 429)
        #expect(v6.last?.header("retry-after") == "2000")
        #expect(v6.last?.bodyText.contains(#""retry_after":2000"#) == true)
        let v10 = try await Self.post(
            body, to: group, count: 6, path: { _ in "/api/v10/webhooks/77/dc-rate?wait=true" })
        #expect(v10.last?.status == 429)
        #expect(v10.last?.header("retry-after") == "2")
        #expect(v10.last?.bodyText.contains(#""retry_after":2.000"#) == true)
    }
}
