import Emulator
import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

@Suite("Per-bot pacing, in virtual time")
struct PacingTests {
    struct Rig {
        let server: EmulatorServer
        let store: SQLiteLedgerStore
        let transport: CurlTransport
        let config: GridcastConfig
        let clock: VirtualClock
        let directory: TemporaryDirectory

        /// Plans `count` notices for `selector` and drains them all.
        func send(_ count: Int, to selector: String = "all") async throws {
            let planner = Planner(config: config, sinks: .standard)
            for index in 0..<count {
                let notice = Notice(id: "n\(index)", title: "", text: "第\(index)条：不回拨、不轻信")
                _ = try await store.plan(
                    try planner.plan(notice, to: try Selector(parsing: selector), origin: "test", now: clock.now())
                )
            }
            let dispatcher = Dispatcher(
                store: store, transport: transport, sinks: .standard, config: config, clock: clock
            )
            _ = try await dispatcher.drain(noticeID: nil)
        }

        func rows() async throws -> [DeliveryRecord] {
            try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
        }

        func close() async throws {
            await transport.shutdown()
            try await server.stop()
            directory.remove()
        }
    }

    /// WeCom groups at the platform's own rate (20/min), as configured by an operator.
    func wecom(_ count: Int) -> [Group] {
        TestGroups.wecom(count, port: 0).map { group in
            var paced = group
            paced.rate = nil
            return paced
        }
    }

    func rig(groups: [Group], faults: [String: [FaultPlan.Fault]] = [:], concurrency: Int = 1) async throws -> Rig {
        let clock = VirtualClock()
        let directory = try TemporaryDirectory("pacing")
        let server = try await EmulatorServer.start(
            groups: groups, faults: FaultPlan(faults: faults), clock: { clock.now() }
        )
        let placed = groups.map { group in
            var moved = group
            moved.url = group.url.replacingOccurrences(of: ":0/", with: ":\(server.port)/")
            return moved
        }
        var config = TestGroups.config(placed, ledger: directory.file("ledger.sqlite"), concurrency: concurrency)
        config.dispatch.rateLimitPause = .seconds(60)
        return Rig(
            server: server, store: try SQLiteLedgerStore(path: config.ledger.path), transport: CurlTransport(),
            config: config, clock: clock, directory: directory
        )
    }

    @Test func twentyNoticesToOneWeComBotTakeAtLeast57SecondsAndProvokeNoRefusal() async throws {
        let rig = try await rig(groups: wecom(1))
        try await rig.send(20)
        let received = try await rig.server.received()
        #expect(received.count == 20)
        #expect(try await rig.server.requestCount() == 20, "no 45009: every request was accepted")
        #expect(rig.clock.elapsed >= 57)
        let times = received.map(\.receivedAt).sorted()
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(later.timeIntervalSince(earlier) >= 3 - 0.001)
        }
        try await rig.close()
    }

    @Test func thirtyNoticesStayUnderTheEmulatorsTwentyAMinute() async throws {
        let rig = try await rig(groups: wecom(1))
        try await rig.send(30)
        #expect(try await rig.server.requestCount() == 30)
        #expect(try await rig.rows().allSatisfy { $0.state == .sent && $0.attempts == 1 })
        #expect(rig.clock.elapsed >= 87)
        try await rig.close()
    }

    @Test func aGroupRateOverridesThePlatformsRate() async throws {
        var group = wecom(1)[0]
        group.rate = .perMinute(10)
        let rig = try await rig(groups: [group])
        try await rig.send(5)
        #expect(try await rig.server.received().count == 5)
        #expect(rig.clock.elapsed >= 24)
        try await rig.close()
    }

    @Test func aTooFastAnswerPausesThatBotOnlyAndSpendsNoAttempt() async throws {
        let groups = wecom(2)
        let rig = try await rig(
            groups: groups, faults: ["g0000": [.rateLimit(retryAfter: nil), .rateLimit(retryAfter: nil)]])
        try await rig.send(1)
        let received = try await rig.server.received()
        let slow = try #require(received.first { $0.group == "g0000" })
        let fast = try #require(received.first { $0.group == "g0001" })
        #expect(fast.receivedAt.timeIntervalSince1970 - 1_800_000_000 < 1, "the other bot kept full speed")
        #expect(slow.receivedAt.timeIntervalSince1970 - 1_800_000_000 >= 120, "two pauses of rate_limit_pause (60 s)")
        let row = try #require(try await rig.rows().first { $0.groupID == "g0000" })
        #expect(row.state == .sent)
        #expect(row.attempts == 1)
        #expect(try await rig.server.requestCount() == 4)
        try await rig.close()
    }

    @Test func manyNoticesToFewBotsInParallelAreEachSentOnce() async throws {
        let rig = try await rig(groups: wecom(3), concurrency: 8)
        try await rig.send(12)
        let rows = try await rig.rows()
        #expect(rows.count == 36)
        #expect(rows.allSatisfy { $0.state == .sent })
        let received = try await rig.server.received()
        #expect(received.count == 36)
        let perPair = Dictionary(received.map { ("\($0.group)|\($0.text)", 1) }, uniquingKeysWith: +)
        #expect(perPair.values.allSatisfy { $0 == 1 })
        try await rig.close()
    }

    /// `count` Telegram groups: one bot token posting into `count` chats, at the platform's own rates.
    func telegram(_ count: Int) -> [Group] {
        (0..<count).map { index in
            Group(
                id: String(format: "t%04d", index), name: "Telegram \(index)", sink: "telegram",
                url: "http://127.0.0.1:0/bot7700001:PACING-token/sendMessage", chatID: "-100\(5000 + index)")
        }
    }

    @Test func fortyChatsOfOneTelegramTokenStayUnderItsThirtyASecond() async throws {
        let rig = try await rig(groups: telegram(40))
        try await rig.send(1)
        #expect(try await rig.server.received().count == 40)
        let refused = try await rig.server.requestLog().filter { $0.status != 200 }
        #expect(refused.isEmpty, "no 429: the token was paced across its chats")
        #expect(try await rig.server.requestCount() == 40)
        let times = try await rig.server.received().map(\.receivedAt).sorted()
        for (earlier, later) in zip(times, times.dropFirst(30)) {
            #expect(later.timeIntervalSince(earlier) >= 1 - 0.001, "at most 30 in any second")
        }
        try await rig.close()
    }

    @Test func aTelegram429PausesTheWholeTokenNotOnlyItsChat() async throws {
        let rig = try await rig(groups: telegram(3), faults: ["t0000": [.rateLimit(retryAfter: 30)]])
        try await rig.send(1)
        let log = try await rig.server.requestLog()
        let tooFast = try #require(log.first { $0.status == 429 })
        let after = log.drop { $0 != tooFast }.dropFirst()
        #expect(after.count == 3, "the refused one again, and the two other chats")
        #expect(after.allSatisfy { $0.receivedAt.timeIntervalSince(tooFast.receivedAt) >= 30 - 0.001 })
        #expect(try await rig.rows().allSatisfy { $0.state == .sent && $0.attempts == 1 })
        try await rig.close()
    }
}
