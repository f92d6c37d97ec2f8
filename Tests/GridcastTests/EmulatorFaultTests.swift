import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Testing
import Transport

/// The emulator's injected faults: a rate limit's `retry_after` reaches the client as `Retry-After` on every
/// platform, and a fault for a group the emulator doesn't play is refused.
@Suite("Emulator faults: Retry-After on every platform, unknown groups refused")
struct EmulatorFaultTests {
    static let wecom = Group(
        id: "w1", name: "网格群", sink: "wecom", url: "http://127.0.0.1:1/cgi-bin/webhook/send?key=wk1")
    static let dingtalk = Group(
        id: "dt1", name: "钉钉群", sink: "dingtalk", url: "http://127.0.0.1:1/robot/send?access_token=dt-token-0001")
    static let feishu = Group(
        id: "fs1", name: "飞书群", sink: "feishu", url: "http://127.0.0.1:1/open-apis/bot/v2/hook/fs-token-0001")

    func post(_ path: String, port: Int, body: String) -> HTTPRequest {
        HTTPRequest(
            url: "http://127.0.0.1:\(port)\(path)", headers: [HTTPHeader("Content-Type", "application/json")],
            body: Array(body.utf8), timeout: .seconds(5))
    }

    @Test func aRateLimitFaultSendsRetryAfterForWeComFeishuAndDingTalk() async throws {
        let faults = FaultPlan(faults: [
            "w1": [.rateLimit(retryAfter: 5), .rateLimit(retryAfter: nil)],
            "fs1": [.rateLimit(retryAfter: 7), .rateLimit(retryAfter: nil)],
            "dt1": [.rateLimit(retryAfter: 9), .rateLimit(retryAfter: nil)],
        ])
        let server = try await EmulatorServer.start(
            groups: [Self.wecom, Self.feishu, Self.dingtalk], faults: faults, enforceRateLimits: false)
        try await withTransport(to: server) { server, transport in
            let wecom = post(
                "/cgi-bin/webhook/send?key=wk1", port: server.port, body: #"{"msgtype":"text","text":{"content":"x"}}"#)
            let feishu = post(
                "/open-apis/bot/v2/hook/fs-token-0001", port: server.port,
                body: #"{"msg_type":"text","content":{"text":"x"}}"#)
            let dingtalk = post(
                "/robot/send?access_token=dt-token-0001", port: server.port,
                body: #"{"msgtype":"text","text":{"content":"x"}}"#)
            for (request, code, seconds) in [(wecom, "45009", "5"), (feishu, "11232", "7"), (dingtalk, "130101", "9")] {
                let limited = try await transport.send(request).get()
                #expect(limited.status == 200)
                #expect(limited.bodyText.contains(code))
                #expect(limited.header("retry-after") == seconds)
                // Without retry_after, the platform's plain "too fast" answer: no header.
                let plain = try await transport.send(request).get()
                #expect(plain.bodyText.contains(code))
                #expect(plain.header("retry-after") == nil)
            }
        }
    }

    @Test func aLostAnswerPostsTheMessageAndDropsTheConnection() async throws {
        let server = try await EmulatorServer.start(
            groups: [Self.wecom], faults: FaultPlan(faults: ["w1": [.lostAnswer]]), enforceRateLimits: false)
        try await withTransport(to: server) { (server, transport) async throws in
            let request = post(
                "/cgi-bin/webhook/send?key=wk1", port: server.port, body: #"{"msgtype":"text","text":{"content":"x"}}"#)
            let lost = await transport.send(request)
            guard case .failure(let failure) = lost else {
                Issue.record("the answer was not lost: \(lost)")
                return
            }
            #expect(failure.kind == .outcomeUnknown)
            #expect(try await server.received().map(\.group) == ["w1"])
            #expect(try await server.requestLog().map(\.status) == [nil])
            #expect(try await transport.send(request).get().bodyText.contains(#""errcode":0"#))
        }
    }

    @Test func aFaultForAGroupNotInTheConfigIsRefused() async throws {
        let faults = try FaultPlan.parse("w1:\n  - {fault: busy}\nw2:\n  - {fault: permanent}\n", file: "faults.yaml")
        do {
            let server = try await EmulatorServer.start(groups: [Self.wecom], faults: faults)
            try await server.stop()
            Issue.record("a fault for an unknown group was accepted")
        } catch let failure as FaultPlan.Failure {
            #expect(
                failure.description
                    == "faults.yaml:3:1: faults for group 'w2', which is not in the emulator's config "
                    + "(did you mean 'w1'?)")
        }
        // Without a config the emulator plays any bot, and faults are keyed by bot: nothing to check.
        let open = try await EmulatorServer.start(faults: faults)
        try await open.stop()
    }

    @Test func emulateRefusesAFaultsFileNamingAnUnknownGroup() async throws {
        let directory = try TemporaryDirectory("emulate")
        defer { directory.remove() }
        let config = try directory.write(
            "gridcast.yaml", TestGroups.yaml(TestGroups.wecom(2, port: 1), ledger: directory.file("l.sqlite")))
        let faults = try directory.write("faults.yaml", "g0001:\n  - {fault: busy}\ng0007:\n  - {fault: busy}\n")
        let result = try await GridcastProcess.run([
            "emulate", "--listen", "127.0.0.1:0", "--config", config, "--faults", faults,
        ])
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("\(faults):3:1: faults for group 'g0007', which is not in the emulator's config"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("l.sqlite")))
    }
}
