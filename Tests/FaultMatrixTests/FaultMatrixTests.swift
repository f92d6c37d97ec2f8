import Emulator
import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

/// Every retryable and permanent answer of every platform (`docs/sinks.md`), served by the emulator
/// through the real libcurl transport to the real dispatcher and SQLite ledger, in virtual time.
@Suite("Fault matrix: each platform answer → end state, attempts, and waits", .serialized)
struct FaultMatrixTests {
    @Test(arguments: AnswerTable.rows)
    func answer(_ row: AnswerRow) async throws {
        try await MatrixRig.with(row.platform, faults: row.faults, timeout: row.timeout, listening: row.listening) {
            rig in
            try await rig.plan()
            try await rig.drain()

            let delivery = try #require(try await rig.deliveries().first)
            // Teams confirms nothing: what other platforms end `sent` ends `accepted` there (docs/ledger.md).
            let delivered: DeliveryState = row.platform == .teams ? .accepted : .sent
            let state: DeliveryState =
                switch row.end {
                case .sent, .retriedThenSent, .pausedThenSent: delivered
                case .dead: .dead
                case .inDoubt: .inDoubt
                }
            #expect(delivery.state == state, "\(delivery.lastError ?? "")")
            #expect(delivery.attempts == row.attempts, "ledger attempts")
            if state == delivered {
                #expect(delivery.sentAt != nil)
            } else {
                let error = try #require(delivery.lastError)
                if let because = row.because {
                    #expect(error.contains(because), "last error: \(error)")
                }
            }

            // A request the client gave up on (timeout) may reach a loaded emulator's handler a little later.
            try await waitUntil(timeout: .seconds(10)) { try await rig.requests().count >= row.requests }
            let requests = try await rig.requests()
            #expect(requests.count == row.requests, "requests the emulator received: \(requests)")
            // Nothing went anywhere else either (a followed redirect would show here).
            #expect(try await rig.server.requestLog().count == requests.count)
            // Only the answers the row planned came back before the group behaved.
            #expect(requests.prefix(row.faults.count).allSatisfy { $0.injected })
            #expect(requests.dropFirst(row.faults.count).allSatisfy { !$0.injected && $0.status != nil })

            // Exactly the message of a normal answer shows in the group; none after a refusal or an unknown outcome.
            let shown = try await rig.received()
            let acceptedNormally = state == delivered && requests.last?.injected == false
            #expect(shown.count == (acceptedNormally ? 1 : 0))

            // Never sent before the answer's wait had passed; and not held much longer, so the wait it honoured is
            // the answer's own (a Retry-After of 7 s is not mistaken for the 60 s default pause).
            for (index, gap) in MatrixRig.gaps(requests).enumerated() {
                let bounds = row.wait.bounds(afterAttempt: index + 1)
                #expect(
                    bounds.contains(gap),
                    "request \(index + 2) came \(gap) s after answer \(index + 1); \(row.wait) allows \(bounds)")
            }

            // A finished delivery is never asked again: not by a new run, not an hour later.
            if state != delivered {
                try await rig.clock.sleep(until: rig.clock.now().addingTimeInterval(3600))
                let progress = try await rig.drain()
                #expect(progress == DispatchProgress())
                #expect(try await rig.requests().count == row.requests, "no request after \(row.end.rawValue)")
                #expect(try await rig.deliveries().first?.state == state)
            }
        }
    }

    /// A "too fast" answer with a wait pauses the bot: whichever notice comes next for that group, nothing reaches
    /// it before the wait is over, and no attempt is spent.
    @Test(arguments: Platform.allCases)
    func aPausedBotGetsNothingBeforeItsRetryAfter(_ platform: Platform) async throws {
        let (fault, wait): (FaultPlan.Fault, Double) =
            switch platform {
            // The errcode robots name no time: the pause is dispatch.rate_limit_pause, except DingTalk's lockout.
            case .wecom, .feishu, .lark: (.rateLimit(retryAfter: nil), MatrixRig.rateLimitPause)
            case .dingtalk: (.rateLimit(retryAfter: nil), 600)
            case .slack, .telegram, .discord, .teams, .generic: (.rateLimit(retryAfter: 7), 7)
            }
        try await MatrixRig.with(platform, faults: [fault]) { rig in
            try await rig.plan(3)
            try await rig.drain()
            let rows = try await rig.deliveries()
            let delivered: DeliveryState = platform == .teams ? .accepted : .sent
            #expect(rows.map(\.state) == [delivered, delivered, delivered])
            #expect(rows.map(\.attempts) == [1, 1, 1])
            let requests = try await rig.requests()
            #expect(requests.count == 4)
            let refused = try #require(requests.first)
            #expect(refused.injected)
            for later in requests.dropFirst() {
                #expect(
                    later.receivedAt.timeIntervalSince(refused.receivedAt) >= wait,
                    "a request came \(later.receivedAt.timeIntervalSince(refused.receivedAt)) s after a \(wait) s pause"
                )
            }
            #expect(try await rig.received().count == 3)
        }
    }

    /// Discord publishes no fixed rate: a success answer whose `X-RateLimit-*` headers say the bucket is empty holds
    /// the webhook's next message until the bucket refills.
    @Test func discordsRateLimitHeadersHoldTheNextMessageUntilTheBucketRefills() async throws {
        let emptied = FaultPlan.Fault.answer(
            200, #"{"id":"1","type":0,"channel_id":"1","webhook_id":"4242"}"#,
            headers: ["X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "4.5"]
        )
        try await MatrixRig.with(.discord, faults: [emptied]) { rig in
            try await rig.plan(2)
            try await rig.drain()
            #expect(try await rig.deliveries().map(\.state) == [.sent, .sent])
            let requests = try await rig.requests()
            #expect(requests.count == 2)
            #expect(MatrixRig.gaps(requests).allSatisfy { $0 >= 4.5 })
        }
    }

    /// The fault vocabulary reads the raw answers the matrix needs from a faults file, as `gridcast emulate
    /// --faults` does.
    @Test func aFaultsFileCanServeAnyAnswer() throws {
        let plan = try FaultPlan.parse(
            """
            wecom-1:
              - {fault: answer, status: 200, body: '{"errcode":40058,"errmsg":"content exceed max length"}'}
              - {fault: answer, status: 429, body: rate_limited, headers: {Retry-After: "7"}, times: 2}
            generic-1:
              - {fault: answer, status: 302, headers: {location: /elsewhere}}
            """, file: "faults.yaml"
        )
        #expect(
            plan.faults["wecom-1"] == [
                .answer(200, #"{"errcode":40058,"errmsg":"content exceed max length"}"#),
                .answer(429, "rate_limited", headers: ["retry-after": "7"]),
                .answer(429, "rate_limited", headers: ["retry-after": "7"]),
            ])
        #expect(plan.faults["generic-1"] == [.answer(302, "", headers: ["location": "/elsewhere"])])
        #expect(throws: FaultPlan.Failure.self) {
            try FaultPlan.parse("g:\n  - {fault: answer, body: x}\n", file: "faults.yaml")
        }
    }

    /// `/_emulator/stats` counts requests per group, so a harness outside the process can check "no request after a
    /// permanent answer" too.
    @Test func emulatorStatsCountRequestsPerGroup() async throws {
        try await MatrixRig.with(.wecom, faults: [.busy, .permanent]) { rig in
            try await rig.plan()
            try await rig.drain()
            let stats = try await rig.transport.send(
                HTTPRequest(
                    method: "GET", url: "http://127.0.0.1:\(rig.server.port)/_emulator/stats", timeout: .seconds(5))
            ).get()
            let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Any])
            #expect((object["groups"] as? [String: Int]) == ["wecom-1": 2])
            #expect(try await rig.server.requestCount(group: "wecom-1") == 2)
        }
    }
}
