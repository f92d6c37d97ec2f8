import Emulator
import Foundation
import GridcastCore
import Sinks
import Testing
import Transport

/// One request through libcurl to the emulator and back.
private struct Exchange {
    var request: HTTPRequest
    var response: HTTPResponse
    var verdict: Verdict
    var received: [ReceivedMessage]
}

/// Sends one message for `group` through real loopback HTTP to an emulator configured with `configured` (default:
/// the group itself) and `faults`, and classifies the answer with the group's sink.
private func exchange(
    _ group: Group,
    faults: [FaultPlan.Fault] = [],
    text: String = "不回拨、不轻信",
    title: String = "",
    configured: Group? = nil,
    throughMessageParts: Bool = false,
    rewrite: (@Sendable (String) -> String)? = nil
) async throws -> Exchange {
    let server = try await EmulatorServer.start(
        groups: [(configured ?? group).on(port: 0)], faults: FaultPlan(faults: [group.id: faults])
    )
    let transport = CurlTransport()
    defer {
        Task {
            await transport.shutdown(); try? await server.stop()
        }
    }
    let sink = try #require(SinkRegistry.standard.sink(named: group.sink))
    let target = group.on(port: server.port)
    let notice = Notice(id: "n1", title: title, text: text)
    var body = text
    if throughMessageParts {
        body = try #require(MessageParts.parts(of: notice, for: target, on: sink).first)
    }
    let message = OutgoingMessage(
        deliveryID: "dlv_test", notice: notice, noticeCreatedAt: Date(), group: target, text: body
    )
    var request = try sink.request(for: message, now: Date())
    if let rewrite { request.url = rewrite(request.url) }
    let response = try await transport.send(request).get()
    return Exchange(
        request: request, response: response, verdict: sink.classify(response), received: try await server.received()
    )
}

/// A message for `group` with `text`, for rendering without sending.
private func message(for group: Group, text: String = "x", title: String = "") -> OutgoingMessage {
    OutgoingMessage(
        deliveryID: "d", notice: Notice(id: "n", title: title, text: text), noticeCreatedAt: Date(), group: group,
        text: text
    )
}

private func bodyObject(_ request: HTTPRequest) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
}

private func isPermanent(_ verdict: Verdict) -> Bool {
    if case .permanent = verdict { return true }
    return false
}

private enum Platforms {
    static let dingtalk = Group(
        id: "dt1", name: "钉钉群", sink: "dingtalk", url: "http://127.0.0.1:PORT/robot/send?access_token=dt-token-0001")
    static let dingtalkSigned = Group(
        id: "dt2", name: "钉钉加签群", sink: "dingtalk",
        url: "http://127.0.0.1:PORT/robot/send?access_token=dt-token-0002", secret: "SECdingtalk-test-secret",
        keyword: "反诈")
    static let feishu = Group(
        id: "fs1", name: "飞书群", sink: "feishu", url: "http://127.0.0.1:PORT/open-apis/bot/v2/hook/fs-token-0001")
    static let feishuSigned = Group(
        id: "fs2", name: "飞书加签群", sink: "feishu", url: "http://127.0.0.1:PORT/open-apis/bot/v2/hook/fs-token-0002",
        secret: "orbit-test-secret", keyword: "反诈")
    static let lark = Group(
        id: "lk1", name: "Lark group", sink: "lark", url: "http://127.0.0.1:PORT/open-apis/bot/v2/hook/lk-token-0001")
    static let slack = Group(
        id: "sl1", name: "Slack", sink: "slack", url: "http://127.0.0.1:PORT/services/T0001/B0001/slack-token-0001")
    static let telegram = Group(
        id: "tg1", name: "Telegram", sink: "telegram",
        url: "http://127.0.0.1:PORT/bot123456:TEST-token-0001/sendMessage",
        chatID: "-1001234")
    static let discord = Group(
        id: "dc1", name: "Discord", sink: "discord", url: "http://127.0.0.1:PORT/api/webhooks/123456/discord-token-0001"
    )
    static let teams = Group(
        id: "tm1", name: "Teams", sink: "teams",
        url:
            "http://127.0.0.1:PORT/workflows/0a1b2c/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=teams-sig-0001"
    )
}

@Suite("Signatures: the test vectors of docs/sinks.md")
struct SignatureVectorTests {
    @Test func dingTalkVectors() {
        #expect(
            DingTalkSink.signature(secret: "this is secret", timestampMillis: 1_700_000_000_000)
                == "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=")
        #expect(
            DingTalkSink.signature(secret: "SECtest", timestampMillis: 1_700_000_000_000)
                == "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=")
    }

    @Test func feishuVectors() {
        #expect(
            FeishuSink.signature(secret: "orbit-test-secret", timestampSeconds: 1_756_800_000)
                == "sN+9ZKa5w6BQmKyxCaxNA1DWEgtEnZaOcfEOCqZ26fg=")
        #expect(
            FeishuSink.signature(secret: "SECtest", timestampSeconds: 1_700_000_000)
                == "G7XpBpG8NgG02fJOAhX6FRAObIljmFoxVReo8I62pEk=")
    }

    @Test func dingTalkRequestCarriesMillisecondsAndTheVectorSignEncodedOnce() throws {
        var group = Platforms.dingtalk.on(port: 1)
        group.secret = "this is secret"
        let request = try DingTalkSink().request(
            for: message(for: group), now: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(
            request.url
                == "http://127.0.0.1:1/robot/send?access_token=dt-token-0001&timestamp=1700000000000&sign=sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D"
        )
    }

    @Test func dingTalkSignWithPlusAndSlashIsEncodedExactlyOnce() throws {
        // Find a timestamp whose signature has `+` and `/`, which a double encoder would turn into `%252B`.
        let secret = "SECtest"
        let millis = try #require(
            (1_700_000_000_000..<1_700_000_000_500).first { ms in
                let sign = DingTalkSink.signature(secret: secret, timestampMillis: ms)
                return sign.contains("+") && sign.contains("/")
            })
        let sign = DingTalkSink.signature(secret: secret, timestampMillis: millis)
        var group = Platforms.dingtalk.on(port: 1)
        group.secret = secret
        let url = try DingTalkSink().request(
            for: message(for: group), now: Date(timeIntervalSince1970: Double(millis) / 1000)
        ).url
        let encoded = sign.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "=", with: "%3D")
        #expect(url.hasSuffix("&timestamp=\(millis)&sign=\(encoded)"))
        #expect(url.contains("access_token=dt-token-0001"))
        #expect(!url.contains("%25"))
        #expect(!url.contains("+"))
        #expect(url.components(separatedBy: "sign=").count == 2)
    }

    @Test func signaturesAreFreshForEveryAttempt() throws {
        var dingtalk = Platforms.dingtalk.on(port: 1)
        dingtalk.secret = "SECtest"
        let first = try DingTalkSink().request(for: message(for: dingtalk), now: Date(timeIntervalSince1970: 1000))
        let second = try DingTalkSink().request(for: message(for: dingtalk), now: Date(timeIntervalSince1970: 1001))
        #expect(first.url != second.url)
        #expect(second.url.contains("timestamp=1001000&"))
        let feishu = Platforms.feishuSigned.on(port: 1)
        let body = try bodyObject(
            FeishuSink(name: "feishu").request(
                for: message(for: feishu), now: Date(timeIntervalSince1970: 1_756_800_000)))
        #expect(body["timestamp"] as? String == "1756800000")
        #expect(body["sign"] as? String == "sN+9ZKa5w6BQmKyxCaxNA1DWEgtEnZaOcfEOCqZ26fg=")
    }

    @Test func aSignedURLIsResignedNotSignedTwice() throws {
        var group = Platforms.dingtalk.on(port: 1)
        group.url += "&timestamp=1&sign=old"
        group.secret = "SECtest"
        let url = try DingTalkSink().request(for: message(for: group), now: Date(timeIntervalSince1970: 5)).url
        #expect(url.components(separatedBy: "timestamp=").count == 2)
        #expect(!url.contains("sign=old"))
    }
}

@Suite("DingTalk through real HTTP")
struct DingTalkPlatformTests {
    @Test func errcodeZeroIsSent() async throws {
        let result = try await exchange(Platforms.dingtalk)
        #expect(result.verdict == .sent)
        #expect(result.received.map(\.text) == ["不回拨、不轻信"])
    }

    @Test func signedGroupWithKeywordIsAccepted() async throws {
        let result = try await exchange(Platforms.dingtalkSigned, throughMessageParts: true)
        #expect(result.verdict == .sent)
        #expect(result.received.map(\.text) == ["【反诈】不回拨、不轻信"])
        #expect(result.request.url.contains("&timestamp=") && result.request.url.contains("&sign="))
    }

    @Test func wrongSecretIsRefusedWithHTTP200AndIsPermanent() async throws {
        var sender = Platforms.dingtalkSigned
        sender.secret = "SECanother-secret-entirely"
        let result = try await exchange(sender, configured: Platforms.dingtalkSigned, throughMessageParts: true)
        #expect(result.response.status == 200)
        #expect(
            result.verdict
                == .permanent(
                    reason:
                        "errcode 310000: sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq] (check the group's secret)"
                ))
        #expect(result.received.isEmpty)
        #expect(!"\(result.verdict)".contains("SEC") && !"\(result.verdict)".contains("dt-token"))
    }

    @Test func doubleEncodedSignIsRefused() async throws {
        let result = try await exchange(
            Platforms.dingtalkSigned, throughMessageParts: true,
            rewrite: { url in
                let range = url.range(of: "sign=")!
                return String(url[..<range.upperBound])
                    + url[range.upperBound...].replacingOccurrences(of: "%", with: "%25")
            })
        #expect(isPermanent(result.verdict))
        #expect(result.received.isEmpty)
    }

    @Test func missingKeywordIsPermanent() async throws {
        let result = try await exchange(Platforms.dingtalkSigned)
        #expect(
            result.verdict
                == .permanent(
                    reason:
                        "errcode 310000: keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq] (the text lacks the robot's custom keyword)"
                ))
    }

    @Test func busyIsRetried() async throws {
        #expect(
            try await exchange(Platforms.dingtalk, faults: [.busy]).verdict
                == .retry(after: nil, reason: "errcode -1: 系统繁忙"))
        #expect(
            try await exchange(Platforms.dingtalk, faults: [.status(503)]).verdict
                == .retry(after: nil, reason: "HTTP 503"))
    }

    @Test func sendTooFastIsRateLimited() async throws {
        let result = try await exchange(Platforms.dingtalk, faults: [.rateLimit(retryAfter: nil)])
        #expect(
            result.verdict
                == .rateLimited(
                    after: .seconds(600), reason: "errcode 130101: send too fast, exceed 20 times per minute"))
        #expect(
            try await exchange(Platforms.dingtalk, faults: [.status(429)]).verdict
                == .rateLimited(after: nil, reason: "HTTP 429"))
    }

    @Test func permanentAnswersAreNotSent() async throws {
        #expect(isPermanent(try await exchange(Platforms.dingtalk, faults: [.permanent]).verdict))
        #expect(
            try await exchange(Platforms.dingtalk, faults: [.status(404)]).verdict == .permanent(reason: "HTTP 404"))
        var stranger = Platforms.dingtalk
        stranger.url = "http://127.0.0.1:PORT/robot/send?access_token=someone-else"
        let unknown = try await exchange(stranger, configured: Platforms.dingtalk)
        #expect(unknown.response.status == 200)
        #expect(unknown.verdict == .permanent(reason: "errcode 300001: token is not exist"))
    }

    @Test func tooLongIsPermanent() async throws {
        let result = try await exchange(Platforms.dingtalk, text: String(repeating: "诈", count: 7000))
        #expect(result.verdict == .permanent(reason: "errcode 460101: message too long"))
    }

    @Test(arguments: [500, 502, 504])
    func gatewayErrorsAreOutcomeUnknown(status: Int) async throws {
        #expect(
            try await exchange(Platforms.dingtalk, faults: [.status(status)]).verdict
                == .unknown(reason: "HTTP \(status)"))
    }

    @Test func http200WithoutErrcodeIsUnknown() async throws {
        let result = try await exchange(Platforms.dingtalk, faults: [.oversize])
        #expect(result.verdict == .unknown(reason: "HTTP 200 without an errcode in the body"))
    }

    @Test func markdownAndMentionAll() async throws {
        var group = Platforms.dingtalk
        group.format = .markdown
        group.mentionAll = true
        let result = try await exchange(group, text: "**不转账**", title: "反诈提醒")
        #expect(result.verdict == .sent)
        #expect(result.received.first?.text == "**不转账**")
        #expect(result.received.first?.mentionAll == true)
        #expect(
            String(decoding: result.request.body, as: UTF8.self)
                == #"{"msgtype":"markdown","markdown":{"title":"反诈提醒","text":"**不转账**"},"at":{"isAtAll":true}}"#)
    }
}

@Suite("Feishu and Lark through real HTTP")
struct FeishuPlatformTests {
    @Test(arguments: [Platforms.feishu, Platforms.lark])
    func codeZeroIsSent(group: Group) async throws {
        let result = try await exchange(group)
        #expect(result.verdict == .sent)
        #expect(result.received.map(\.text) == ["不回拨、不轻信"])
        #expect(result.received.first?.sink == group.sink)
    }

    @Test func signedGroupWithKeywordIsAccepted() async throws {
        let result = try await exchange(Platforms.feishuSigned, throughMessageParts: true)
        #expect(result.verdict == .sent)
        #expect(result.received.map(\.text) == ["【反诈】不回拨、不轻信"])
    }

    @Test func wrongSecretIsRefusedWithHTTP200AndIsPermanent() async throws {
        var sender = Platforms.feishuSigned
        sender.secret = "another-secret"
        let result = try await exchange(sender, configured: Platforms.feishuSigned, throughMessageParts: true)
        #expect(result.response.status == 200)
        #expect(
            result.verdict
                == .permanent(
                    reason:
                        "code 19021: sign match fail or timestamp is not within one hour from current time (check the group's secret and this machine's clock)"
                ))
        #expect(result.received.isEmpty)
    }

    @Test func missingKeywordIsPermanent() async throws {
        let result = try await exchange(Platforms.feishuSigned)
        #expect(
            result.verdict
                == .permanent(reason: "code 19024: Key Words Not Found (the text lacks the bot's custom keyword)"))
    }

    @Test func busyIsRetriedAndFrequencyLimitIsRateLimited() async throws {
        #expect(try await exchange(Platforms.feishu, faults: [.busy]).verdict == .retry(after: nil, reason: "HTTP 503"))
        #expect(
            try await exchange(Platforms.feishu, faults: [.rateLimit(retryAfter: nil)]).verdict
                == .rateLimited(
                    after: nil, reason: "code 11232: frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"))
        #expect(
            try await exchange(Platforms.feishu, faults: [.status(429)]).verdict
                == .rateLimited(after: nil, reason: "HTTP 429"))
        #expect(try await exchange(Platforms.feishu, faults: [.status(502)]).verdict == .unknown(reason: "HTTP 502"))
    }

    @Test func permanentAnswersAreNotSent() async throws {
        let result = try await exchange(Platforms.feishu, faults: [.permanent])
        #expect(result.response.status == 200)
        #expect(
            result.verdict == .permanent(reason: "code 19001: param invalid: incoming webhook access token invalid"))
        let long = try await exchange(Platforms.feishu, text: String(repeating: "诈", count: 7000))
        #expect(long.verdict == .permanent(reason: "code 9499: Bad Request"))
    }

    @Test func cardCarriesTheTextAsLarkMarkdown() async throws {
        var group = Platforms.feishu
        group.format = .markdown
        group.mentionAll = true
        let result = try await exchange(group, text: "**不点击** \"链接\"")
        #expect(result.verdict == .sent)
        #expect(result.received.first?.text == "**不点击** \"链接\"")
        #expect(result.received.first?.mentionAll == true)
        #expect(
            String(decoding: result.request.body, as: UTF8.self)
                == #"{"msg_type":"interactive","card":{"elements":[{"tag":"div","text":{"tag":"lark_md","content":"<at id=all></at> **不点击** \"链接\""}}]}}"#
        )
    }

    @Test func mentionAllInText() throws {
        var group = Platforms.feishu.on(port: 1)
        group.mentionAll = true
        let body = try bodyObject(FeishuSink(name: "feishu").request(for: message(for: group), now: Date()))
        #expect((body["content"] as? [String: Any])?["text"] as? String == #"<at user_id="all">所有人</at> x"#)
    }

    @Test func legacyAndUnknownCodes() {
        let sink = FeishuSink(name: "lark")
        func classify(_ json: String, status: Int = 200) -> Verdict {
            sink.classify(HTTPResponse(status: status, body: Array(json.utf8)))
        }
        #expect(classify(#"{"StatusCode":0,"StatusMessage":"success"}"#) == .sent)
        #expect(classify(#"{"code":0,"msg":"success","StatusCode":0}"#) == .sent)
        #expect(classify(#"{"code":10208,"msg":"type not supported","StatusCode":0}"#).isPermanentVerdict)
        #expect(classify(#"{"code":12345,"msg":"new"}"#) == .permanent(reason: "code 12345: new"))
        #expect(
            classify(#"{"code":9499,"msg":"Bad Request"}"#, status: 400) == .permanent(reason: "code 9499: Bad Request")
        )
        #expect(classify("<html></html>") == .unknown(reason: "HTTP 200 without a code in the body"))
    }
}

@Suite("Slack through real HTTP")
struct SlackPlatformTests {
    @Test func okIsSent() async throws {
        var group = Platforms.slack
        group.mentionAll = true
        let result = try await exchange(group)
        #expect(result.verdict == .sent)
        #expect(result.received.first?.text == "不回拨、不轻信")
        #expect(result.received.first?.mentionAll == true)
        #expect(String(decoding: result.request.body, as: UTF8.self) == #"{"text":"<!channel> 不回拨、不轻信"}"#)
    }

    @Test func retryableAndRateLimited() async throws {
        #expect(
            try await exchange(Platforms.slack, faults: [.busy]).verdict
                == .retry(after: nil, reason: "HTTP 503: service_unavailable"))
        #expect(
            try await exchange(Platforms.slack, faults: [.rateLimit(retryAfter: 4)]).verdict
                == .rateLimited(after: .seconds(4), reason: "HTTP 429: rate_limited"))
    }

    @Test func permanentAnswers() async throws {
        #expect(
            try await exchange(Platforms.slack, faults: [.permanent]).verdict
                == .permanent(reason: "HTTP 404: channel_not_found"))
        #expect(
            try await exchange(Platforms.slack, text: String(repeating: "a", count: 40001)).verdict
                == .permanent(reason: "HTTP 400: invalid_payload"))
        #expect(
            SlackSink().classify(HTTPResponse(status: 410, body: Array("channel_is_archived".utf8)))
                == .permanent(reason: "HTTP 410: channel_is_archived"))
    }

    @Test func http200WithAnotherBodyIsUnknown() async throws {
        let result = try await exchange(Platforms.slack, faults: [.oversize])
        guard case .unknown = result.verdict else {
            Issue.record("expected unknown, got \(result.verdict)")
            return
        }
        #expect(SlackSink().classify(HTTPResponse(status: 200, body: Array("ok".utf8))) == .sent)
    }
}

@Suite("Telegram through real HTTP")
struct TelegramPlatformTests {
    @Test func okTrueIsSent() async throws {
        let result = try await exchange(Platforms.telegram)
        #expect(result.verdict == .sent)
        #expect(result.received.map(\.text) == ["不回拨、不轻信"])
        #expect(
            String(decoding: result.request.body, as: UTF8.self) == #"{"chat_id":"-1001234","text":"不回拨、不轻信"}"#)
    }

    @Test func htmlModeEscapesAndTheGroupSeesTheOriginalText() async throws {
        var group = Platforms.telegram
        group.format = .markdown
        let text = "<b>不转账</b> & 1 > 0"
        let result = try await exchange(group, text: text)
        #expect(result.verdict == .sent)
        #expect(result.received.first?.text == text)
        let body = try bodyObject(result.request)
        #expect(body["parse_mode"] as? String == "HTML")
        #expect(body["text"] as? String == "&lt;b&gt;不转账&lt;/b&gt; &amp; 1 &gt; 0")
    }

    @Test func retryableAndRateLimited() async throws {
        #expect(
            try await exchange(Platforms.telegram, faults: [.busy]).verdict
                == .retry(after: nil, reason: "error 500: Internal Server Error"))
        #expect(
            try await exchange(Platforms.telegram, faults: [.rateLimit(retryAfter: 5)]).verdict
                == .rateLimited(after: .seconds(5), reason: "error 429: Too Many Requests: retry after 5"))
        #expect(
            try await exchange(Platforms.telegram, faults: [.status(502)]).verdict
                == .unknown(reason: "HTTP 502"))
    }

    @Test func migratedGroupIsPermanentAndNamesTheNewChat() async throws {
        let result = try await exchange(Platforms.telegram, faults: [.permanent])
        guard case .permanent(let reason) = result.verdict else {
            Issue.record("expected permanent, got \(result.verdict)")
            return
        }
        #expect(reason.contains("moved to chat id -1001234567890"))
        #expect(!reason.contains("TEST-token"))
    }

    @Test func permanentAnswers() async throws {
        #expect(
            try await exchange(Platforms.telegram, text: String(repeating: "a", count: 4097)).verdict
                == .permanent(reason: "error 400: Bad Request: message is too long"))
        var elsewhere = Platforms.telegram
        elsewhere.chatID = "-1009999"
        #expect(
            try await exchange(elsewhere, configured: Platforms.telegram).verdict
                == .permanent(reason: "error 400: Bad Request: chat not found"))
        let kicked = #"{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}"#
        #expect(
            TelegramSink().classify(HTTPResponse(status: 403, body: Array(kicked.utf8)))
                == .permanent(reason: "error 403: Forbidden: bot was kicked from the group chat"))
    }

    @Test func markdownIsRenderedInTelegramsHTMLSubset() async throws {
        var group = Platforms.telegram
        group.format = .markdown
        let text = "## 防骗提醒\n**不转账**，拨打 `96110`，详见 [反诈中心](https://example.org/a?b=1&c=2)\n- *别信* ~~中奖~~ 1 < 2"
        let result = try await exchange(group, text: text, throughMessageParts: true)
        #expect(result.verdict == .sent)
        let body = try bodyObject(result.request)
        #expect(body["parse_mode"] as? String == "HTML")
        #expect(
            body["text"] as? String
                == "<b>防骗提醒</b>\n<b>不转账</b>，拨打 <code>96110</code>，详见 "
                + "<a href=\"https://example.org/a?b=1&amp;c=2\">反诈中心</a>\n· <i>别信</i> <s>中奖</s> 1 &lt; 2")
        #expect(result.received.map(\.text) == ["防骗提醒\n不转账，拨打 96110，详见 反诈中心\n· 别信 中奖 1 < 2"])
    }

    @Test func textFormatStaysPlain() async throws {
        let result = try await exchange(Platforms.telegram, text: "**不转账** 1 < 2", throughMessageParts: true)
        let body = try bodyObject(result.request)
        #expect(body["parse_mode"] == nil)
        #expect(result.received.map(\.text) == ["不转账 1 < 2"])
    }

    @Test func aLongMarkdownNoticeSplitsIntoPartsThatEachParse() async throws {
        var group = Platforms.telegram.on(port: 1)
        group.format = .markdown
        let line = "**不转账** [详情](https://example.org/x) `96110` & 更多\n"
        let notice = Notice(id: "n", title: "", text: String(repeating: line, count: 200))
        let parts = MessageParts.parts(of: notice, for: group, on: TelegramSink())
        #expect(parts.count > 1)
        for part in parts {
            let message = OutgoingMessage(
                deliveryID: "d", notice: notice, noticeCreatedAt: Date(), group: group, text: part)
            let html = try #require(
                try bodyObject(TelegramSink().request(for: message, now: Date()))["text"] as? String)
            #expect(html.components(separatedBy: "<b>").count == html.components(separatedBy: "</b>").count)
            #expect(html.components(separatedBy: "<a ").count == html.components(separatedBy: "</a>").count)
        }
    }

    @Test func badMarkupIsRefusedAsTelegramRefusesIt() async throws {
        let server = try await EmulatorServer.start(groups: [Platforms.telegram.on(port: 0)])
        let transport = CurlTransport()
        for (html, problem) in [
            ("<b>不转账", "Can't find end tag corresponding to start tag \\\"b\\\""),
            ("<blink>x</blink>", "Unsupported start tag \\\"blink\\\" at byte offset 0"),
            ("a & b", "Unsupported HTML entity at byte offset 2"),
        ] {
            let body = #"{"chat_id":"-1001234","parse_mode":"HTML","text":"\#(html)"}"#
            let request = HTTPRequest(
                url: Platforms.telegram.on(port: server.port).url,
                headers: [HTTPHeader("Content-Type", "application/json")], body: Array(body.utf8))
            let response = try await transport.send(request).get()
            #expect(response.status == 400)
            let answer = String(decoding: response.body, as: UTF8.self)
            #expect(answer.contains("Bad Request: can't parse entities: \(problem)"), "\(answer)")
            #expect(isPermanent(TelegramSink().classify(response)))
        }
        #expect(try await server.received().isEmpty)
        await transport.shutdown()
        try await server.stop()
    }

    @Test func threadIDIsSentAsMessageThreadID() async throws {
        var group = Platforms.telegram
        group.threadID = "7"
        let result = try await exchange(group)
        #expect(result.verdict == .sent)
        #expect(try bodyObject(result.request)["message_thread_id"] as? Int == 7)
        #expect(result.received.map(\.threadID) == [7])
        var otherTopic = group
        otherTopic.threadID = "8"
        #expect(
            try await exchange(otherTopic, configured: group).verdict
                == .permanent(reason: "error 400: Bad Request: message thread not found"))
    }

    @Test func theSharedPacingKeyIsTheToken() {
        var other = Platforms.telegram
        other.chatID = "-1005678"
        #expect(TelegramSink().sharedKey(for: Platforms.telegram) == TelegramSink().sharedKey(for: other))
        var otherBot = Platforms.telegram
        otherBot.url = otherBot.url.replacingOccurrences(of: "TEST-token-0001", with: "TEST-token-0002")
        #expect(TelegramSink().sharedKey(for: Platforms.telegram) != TelegramSink().sharedKey(for: otherBot))
        #expect(TelegramSink().sharedRate == .perSecond(30))
    }

    @Test func botKeyIsPerChat() {
        var other = Platforms.telegram
        other.chatID = "-1005678"
        #expect(TelegramSink().botKey(for: Platforms.telegram) != TelegramSink().botKey(for: other))
        #expect(TelegramSink().botKey(for: Platforms.telegram).hasSuffix("#-1001234"))
    }

    @Test func chatIDIsRequired() throws {
        var group = Platforms.telegram.on(port: 1)
        group.chatID = nil
        let problems = SinkRegistry.standard.problems(for: group)
        #expect(problems.map(\.field) == ["chat_id"])
        #expect(problems.allSatisfy { !$0.message.contains("TEST-token") })
        #expect(throws: RenderError.self) { try TelegramSink().request(for: message(for: group), now: Date()) }
        var badPath = Platforms.telegram.on(port: 1)
        badPath.url = "https://api.telegram.org/sendMessage"
        #expect(SinkRegistry.standard.problems(for: badPath).map(\.field) == ["url"])
    }
}

@Suite("Discord through real HTTP")
struct DiscordPlatformTests {
    @Test func waitTrueIsSentAndAnswered200() async throws {
        let result = try await exchange(Platforms.discord)
        #expect(result.request.url.hasSuffix("/api/v10/webhooks/123456/discord-token-0001?wait=true"))
        #expect(result.response.status == 200)
        #expect(result.verdict == .sent)
        #expect(result.received.map(\.text) == ["不回拨、不轻信"])
        #expect(
            String(decoding: result.request.body, as: UTF8.self)
                == #"{"content":"不回拨、不轻信","allowed_mentions":{"parse":[]}}"#)
    }

    @Test func withoutWaitTheMessageIsLostBehindA204() async throws {
        let result = try await exchange(
            Platforms.discord, rewrite: { $0.replacingOccurrences(of: "?wait=true", with: "") })
        #expect(result.response.status == 204)
        #expect(result.received.isEmpty)
    }

    @Test func waitIsForcedAndOtherQueryItemsKept() throws {
        var group = Platforms.discord.on(port: 1)
        group.url += "?thread_id=42&wait=false"
        let url = try DiscordSink().request(for: message(for: group), now: Date()).url
        #expect(url.hasSuffix("?thread_id=42&wait=true"))
    }

    @Test func mentionAllAllowsEveryone() async throws {
        var group = Platforms.discord
        group.mentionAll = true
        let result = try await exchange(group)
        #expect(result.received.first?.mentionAll == true)
        #expect(result.received.first?.text == "不回拨、不轻信")
        #expect(
            String(decoding: result.request.body, as: UTF8.self)
                == #"{"content":"@everyone 不回拨、不轻信","allowed_mentions":{"parse":["everyone"]}}"#)
    }

    @Test func rateLimitUsesRetryAfterAndPacingReadsTheHeaders() async throws {
        let result = try await exchange(Platforms.discord, faults: [.rateLimit(retryAfter: 3)])
        #expect(result.verdict == .rateLimited(after: .seconds(3), reason: "HTTP 429: You are being rate limited."))
        #expect(DiscordSink().pacing(after: result.response) == .seconds(3))
        let bodyOnly = HTTPResponse(status: 429, body: Array(#"{"message":"slow","retry_after":1.25}"#.utf8))
        #expect(DiscordSink().classify(bodyOnly) == .rateLimited(after: .milliseconds(1250), reason: "HTTP 429: slow"))
        let plenty = HTTPResponse(
            status: 200, headers: ["x-ratelimit-remaining": "3", "x-ratelimit-reset-after": "0.5"])
        #expect(DiscordSink().pacing(after: plenty) == nil)
        let empty = HTTPResponse(
            status: 200, headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "0.512"])
        #expect(DiscordSink().pacing(after: empty) == .milliseconds(512))
        #expect(DiscordSink().rate == nil)
    }

    @Test func retryableAndPermanent() async throws {
        #expect(
            try await exchange(Platforms.discord, faults: [.busy]).verdict
                == .retry(after: nil, reason: "HTTP 503: Service Unavailable"))
        #expect(
            try await exchange(Platforms.discord, faults: [.permanent]).verdict
                == .permanent(reason: "HTTP 401: code 50027: Invalid Webhook Token"))
        var stranger = Platforms.discord
        stranger.url = "http://127.0.0.1:PORT/api/webhooks/999/someone-else"
        #expect(
            try await exchange(stranger, configured: Platforms.discord).verdict
                == .permanent(reason: "HTTP 404: code 10015: Unknown Webhook"))
        #expect(
            try await exchange(Platforms.discord, text: String(repeating: "a", count: 2001)).verdict
                == .permanent(reason: "HTTP 400: code 50035: Invalid Form Body"))
    }
}

@Suite("Teams through real HTTP")
struct TeamsPlatformTests {
    @Test func adaptiveCardIsAccepted() async throws {
        let result = try await exchange(Platforms.teams, text: "不透露 \"验证码\"")
        #expect(result.response.status == 202)
        #expect(result.verdict == .accepted, "202: the flow took it; nothing confirms it was posted")
        #expect(result.received.map(\.text) == ["不透露 \"验证码\""])
        #expect(
            String(decoding: result.request.body, as: UTF8.self)
                == #"{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"不透露 \"验证码\"","wrap":true}]}}]}"#
        )
    }

    @Test func retryableRateLimitedAndPermanent() async throws {
        #expect(
            try await exchange(Platforms.teams, faults: [.busy]).verdict
                == .retry(after: nil, reason: "HTTP 503: ServiceUnavailable: The service is temporarily unavailable."))
        #expect(
            try await exchange(Platforms.teams, faults: [.rateLimit(retryAfter: 2)]).verdict
                == .rateLimited(
                    after: .seconds(2), reason: "HTTP 429: TooManyRequests: Rate limit is exceeded. Try again later."))
        #expect(
            try await exchange(Platforms.teams, faults: [.permanent]).verdict
                == .permanent(reason: "HTTP 404: WorkflowNotFound: The workflow could not be found."))
        var wrongSig = Platforms.teams
        wrongSig.url = wrongSig.url.replacingOccurrences(of: "sig=teams-sig-0001", with: "sig=forged")
        let refused = try await exchange(wrongSig, configured: Platforms.teams)
        #expect(isPermanent(refused.verdict))
        #expect(refused.received.isEmpty)
        #expect(TeamsSink().classify(HTTPResponse(status: 200)) == .accepted)
    }

    @Test func aFlowThatAcceptsAndFailsIsAcceptedAndNeverShown() async throws {
        let result = try await exchange(Platforms.teams, faults: [.acceptedThenLost])
        #expect(result.response.status == 202)
        #expect(result.verdict == .accepted)
        #expect(result.received.isEmpty, "the flow failed out of sight")
    }
}

@Suite("Platform registry and config validation")
struct PlatformRegistryTests {
    @Test func everyPlatformIsRegistered() {
        #expect(
            SinkRegistry.standard.sinkNames
                == [
                    "wecom", "dingtalk", "feishu", "lark", "slack", "telegram", "discord", "teams", "generic",
                    "wecom-customer-group",
                ])
        #expect(SinkRegistry.standard.sink(named: "lark")?.name == "lark")
        // Customer groups are valid in a config, but reached through an app: no webhook sink.
        #expect(SinkRegistry.standard.sink(named: "wecom-customer-group") == nil)
    }

    @Test func dingTalkNeedsAnAccessToken() {
        var group = Platforms.dingtalk.on(port: 1)
        group.url = "https://oapi.dingtalk.com/robot/send"
        let problems = SinkRegistry.standard.problems(for: group)
        #expect(
            problems == [
                GroupProblem(field: "url", message: "dingtalk url must carry the robot token as ?access_token=…")
            ])
    }

    @Test func wellFormedGroupsHaveNoProblems() {
        let groups = [
            Platforms.dingtalk, Platforms.dingtalkSigned, Platforms.feishu, Platforms.lark, Platforms.slack,
            Platforms.telegram, Platforms.discord, Platforms.teams,
        ]
        for group in groups {
            #expect(SinkRegistry.standard.problems(for: group.on(port: 1)) == [], "\(group.id)")
        }
    }

    @Test func limitsAndRates() {
        let group = Platforms.dingtalk
        #expect(DingTalkSink().limit(for: group) == .bytes(20000))
        #expect(DingTalkSink().rate == .perMinute(20))
        #expect(FeishuSink(name: "feishu").rate == RateLimit.perSecond(5).and(.perMinute(100)))
        #expect(SlackSink().limit(for: group) == .characters(3000))
        #expect(TelegramSink().limit(for: group) == .characters(4096))
        #expect(DiscordSink().limit(for: group) == .characters(2000))
        #expect(TeamsSink().rate == .perMinute(60))
    }
}

extension Verdict {
    fileprivate var isPermanentVerdict: Bool { isPermanent(self) }
}

@Suite("The emulator reads request URIs as platforms do")
struct EmulatedRequestTests {
    @Test func queryIsPercentDecodedFirstValueWinsAndPlusStaysPlus() {
        let request = EmulatedRequest(
            method: "POST", uri: "/robot/send?access_token=a%2Bb&sign=x+y%3D&&empty&access_token=second&bad=%zz",
            headers: [:], body: [])
        #expect(request.path == "/robot/send")
        #expect(request.query["access_token"] == "a+b")
        #expect(request.query["sign"] == "x+y=")
        #expect(request.query["empty"] == "")
        #expect(request.query["bad"] == "%zz")
        #expect(request.query.count == 4)
    }

    @Test func aURIWithoutAQueryHasAPathOnly() {
        let request = EmulatedRequest(method: "POST", uri: "/webhook/中文", headers: [:], body: [])
        #expect(request.path == "/webhook/中文")
        #expect(request.query.isEmpty)
    }
}

/// One rule for an HTTP 5xx on every platform that does not deduplicate: 503 ("unavailable": not taken) is
/// retried, any other 5xx may come after the message was posted and is "outcome unknown"; only the generic sink,
/// whose receiver deduplicates on `webhook-id`, retries every 5xx.
@Suite("5xx: one rule for every sink")
struct ServerErrorRuleTests {
    static let chatPlatforms = [
        Platforms.dingtalk, Platforms.feishu, Platforms.lark, Platforms.slack, Platforms.telegram,
        Platforms.discord, Platforms.teams,
        Group(
            id: "wc1", name: "企业微信群", sink: "wecom", url: "http://127.0.0.1:PORT/cgi-bin/webhook/send?key=wc-key-0001"),
    ]

    @Test(arguments: chatPlatforms)
    func aGatewayErrorIsOutcomeUnknownAndUnavailableIsRetried(group: Group) async throws {
        for status in [500, 502, 504] {
            let verdict = try await exchange(group, faults: [.status(status)]).verdict
            guard case .unknown = verdict else {
                Issue.record("\(group.sink) HTTP \(status): \(verdict), expected outcome unknown")
                continue
            }
        }
        let unavailable = try await exchange(group, faults: [.status(503)]).verdict
        guard case .retry = unavailable else {
            Issue.record("\(group.sink) HTTP 503: \(unavailable), expected a retry")
            return
        }
        #expect(SinkRegistry.standard.sink(named: group.sink)?.deduplicates == false)
    }

    @Test func theGenericSinkRetriesEvery5xx() async throws {
        let group = Group(
            id: "h1", name: "通用", sink: "generic", url: "http://127.0.0.1:PORT/hooks/h1",
            secret: "whsec_" + Data("gridcast-test-secret-0123456789".utf8).base64EncodedString())
        for status in [500, 502, 503, 504] {
            let verdict = try await exchange(group, faults: [.status(status)]).verdict
            guard case .retry = verdict else {
                Issue.record("generic HTTP \(status): \(verdict), expected a retry")
                continue
            }
        }
        #expect(SinkRegistry.standard.sink(named: "generic")?.deduplicates == true)
    }
}
