import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing
import Transport

@Suite("Sinks read status and body, through real HTTP")
struct SinkTests {
    /// Renders a message for `group`, sends it through libcurl to an emulator with `faults`, and classifies.
    func verdict(
        for group: Group, faults: [FaultPlan.Fault], text: String = "不回拨、不轻信", configure: Bool = true
    )
        async throws -> (Verdict, [ReceivedMessage])
    {
        let server = try await EmulatorServer.start(
            groups: configure ? [group.on(port: 0)] : [], faults: FaultPlan(faults: [group.id: faults])
        )
        let transport = CurlTransport()
        defer {
            Task {
                await transport.shutdown(); try? await server.stop()
            }
        }
        let sink = try #require(SinkRegistry.standard.sink(named: group.sink))
        let target = group.on(port: server.port)
        let message = OutgoingMessage(
            deliveryID: "dlv_test", notice: Notice(id: "n1", title: "", text: text), noticeCreatedAt: Date(),
            group: target, text: text
        )
        let request = try sink.request(for: message, now: Date())
        let response = try await transport.send(request).get()
        return (sink.classify(response), try await server.received())
    }

    static let wecom = Group(
        id: "w1", name: "网格群", sink: "wecom", url: "http://127.0.0.1:PORT/cgi-bin/webhook/send?key=wk1")
    static let generic = TestGroups.generic("h1", port: 0)

    @Test func wecomErrcodeZeroIsSent() async throws {
        let (verdict, received) = try await verdict(for: Self.wecom, faults: [])
        #expect(verdict == .sent)
        #expect(received.map(\.text) == ["不回拨、不轻信"])
    }

    @Test func wecomBusyIsRetried() async throws {
        let (verdict, received) = try await verdict(for: Self.wecom, faults: [.busy])
        #expect(verdict == .retry(after: nil, reason: "errcode -1: system busy"))
        #expect(received.isEmpty)
    }

    @Test func wecomFrequencyLimitIsRateLimited() async throws {
        let (verdict, _) = try await verdict(for: Self.wecom, faults: [.rateLimit(retryAfter: nil)])
        #expect(verdict == .rateLimited(after: nil, reason: "errcode 45009: api freq out of limit"))
    }

    @Test func wecomInvalidKeyIsPermanentEvenWithHTTP200() async throws {
        let (verdict, _) = try await verdict(for: Self.wecom, faults: [.permanent])
        #expect(verdict == .permanent(reason: "errcode 93000: invalid webhook url"))
    }

    @Test func wecomUnknownRobotIsPermanent() async throws {
        // The emulator knows only the configured key; another key gets 93000 like the real platform.
        var stranger = Self.wecom
        stranger.url = "http://127.0.0.1:PORT/cgi-bin/webhook/send?key=someone-else"
        let server = try await EmulatorServer.start(groups: [Self.wecom.on(port: 0)])
        let transport = CurlTransport()
        let message = OutgoingMessage(
            deliveryID: "d", notice: Notice(id: "n", title: "", text: "x"), noticeCreatedAt: Date(),
            group: stranger.on(port: server.port), text: "x"
        )
        let response = try await transport.send(try WeComSink().request(for: message, now: Date())).get()
        #expect(response.status == 200)
        #expect(
            WeComSink().classify(response) == .permanent(reason: "errcode 93000: invalid webhook url, hint: [emulator]")
        )
        await transport.shutdown()
        try await server.stop()
    }

    @Test func wecomTooLongIsPermanent() async throws {
        let long = String(repeating: "诈", count: 700)  // 2100 bytes > 2048
        let (verdict, _) = try await verdict(for: Self.wecom, faults: [], text: long)
        #expect(verdict == .permanent(reason: "errcode 40058: content exceed max length 2048"))
    }

    @Test func wecomUnavailableIsRetried() async throws {
        let (verdict, _) = try await verdict(for: Self.wecom, faults: [.status(503)])
        #expect(verdict == .retry(after: nil, reason: "HTTP 503"))
    }

    @Test(arguments: [500, 502, 504])
    func wecomGatewayErrorsAreOutcomeUnknown(status: Int) async throws {
        // The message may have been posted before the gateway failed, and WeCom has no deduplication.
        let (verdict, _) = try await verdict(for: Self.wecom, faults: [.status(status)])
        #expect(verdict == .unknown(reason: "HTTP \(status)"))
    }

    @Test func wecom200WithoutErrcodeIsUnknown() {
        #expect(
            WeComSink().classify(HTTPResponse(status: 200, body: Array("<html>ok</html>".utf8)))
                == .unknown(reason: "HTTP 200 without an errcode in the body"))
    }

    @Test func wecomMentionAllGoesInsideText() throws {
        var group = Self.wecom.on(port: 1)
        group.mentionAll = true
        let message = OutgoingMessage(
            deliveryID: "d", notice: Notice(id: "n", title: "", text: "x"), noticeCreatedAt: Date(), group: group,
            text: "x"
        )
        let body = String(decoding: try WeComSink().request(for: message, now: Date()).body, as: UTF8.self)
        #expect(body == #"{"msgtype":"text","text":{"content":"x","mentioned_list":["@all"]}}"#)
    }

    @Test func genericSignedDeliveryIsAcceptedAndCarriesTheDeliveryID() async throws {
        let (verdict, received) = try await verdict(for: Self.generic, faults: [])
        #expect(verdict == .sent)
        #expect(received.first?.webhookID == "dlv_test")
    }

    @Test func genericWrongSecretIsRejectedAsPermanent() async throws {
        // The emulator checks signatures with the configured secret; the sender signs with another one.
        let server = try await EmulatorServer.start(groups: [Self.generic])
        let transport = CurlTransport()
        var sender = Self.generic.on(port: server.port)
        sender.secret = "whsec_" + Data("another-secret-entirely".utf8).base64EncodedString()
        let message = OutgoingMessage(
            deliveryID: "d", notice: Notice(id: "n", title: "", text: "x"), noticeCreatedAt: Date(), group: sender,
            text: "x"
        )
        let response = try await transport.send(try GenericSink().request(for: message, now: Date())).get()
        #expect(response.status == 401)
        #expect(GenericSink().classify(response) == .permanent(reason: "HTTP 401"))
        #expect(try await server.received().isEmpty)
        await transport.shutdown()
        try await server.stop()
    }

    @Test func genericTooManyRequestsHonoursRetryAfter() async throws {
        let (verdict, _) = try await verdict(for: Self.generic, faults: [.rateLimit(retryAfter: 7)])
        #expect(verdict == .rateLimited(after: .seconds(7), reason: "HTTP 429"))
    }

    @Test(arguments: [502, 503, 504])
    func genericGatewayErrorsAreRetried(status: Int) async throws {
        let (verdict, _) = try await verdict(for: Self.generic, faults: [.status(status)])
        #expect(verdict == .retry(after: nil, reason: "HTTP \(status)"))
    }

    @Test(arguments: [400, 404, 410, 422])
    func genericClientErrorsArePermanent(status: Int) async throws {
        let (verdict, _) = try await verdict(for: Self.generic, faults: [.status(status)])
        if case .permanent = verdict {} else { Issue.record("HTTP \(status) must be permanent, got \(verdict)") }
    }

    @Test func standardWebhooksVectorFromTheSpec() throws {
        let signer = try #require(StandardWebhooks(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = signer.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8)
        )
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(
            signer.verify(
                header: "v1,bogus \(signature)", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                body: Array(#"{"test": 2432232314}"#.utf8)
            )
        )
    }

    @Test func retryAfterAcceptsSecondsAndHTTPDates() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse("1.5", now: now) == .milliseconds(1500))
        #expect(RetryAfter.parse("Tue, 14 Nov 2023 22:13:20 GMT", now: now) == .seconds(0))
        #expect(RetryAfter.parse("Tue, 14 Nov 2023 22:14:20 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.parse("soon", now: now) == nil)
    }
}

extension Group {
    /// The group with `PORT` (or any port) in its URL replaced by `port`.
    func on(port: Int) -> Group {
        var copy = self
        copy.url = url.replacingOccurrences(of: "PORT", with: "\(port)")
            .replacingOccurrences(of: ":0/", with: ":\(port)/")
        return copy
    }
}

@Suite("JSON bodies")
struct JSONWriterTests {
    @Test(arguments: ["plain", "引号\"和\\反斜杠", "line\nbreak\r\ttab", "\u{01}\u{1F}控制", "👨‍👩‍👧 emoji", "</script>"])
    func stringsRoundTripThroughAJSONParser(text: String) throws {
        var group = Group(id: "w", name: "n", sink: "wecom", url: "https://x/cgi-bin/webhook/send?key=k")
        group.mentionAll = true
        let message = OutgoingMessage(
            deliveryID: "d", notice: Notice(id: "n", title: "", text: text), noticeCreatedAt: Date(), group: group,
            text: text
        )
        let body = try WeComSink().request(for: message, now: Date()).body
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let inner = try #require(parsed["text"] as? [String: Any])
        #expect(inner["content"] as? String == text)
        #expect(inner["mentioned_list"] as? [String] == ["@all"])
    }
}
