import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// A receiver that is down — nothing listens on its port — while `gridcast serve` has deliveries for it. The daemon
/// backs off (attempts follow the configured schedule, never more), and delivers each notice exactly once when the
/// receiver comes back. Its CPU use is printed, not asserted: speed belongs to the benchmarks.
@Suite("Resource faults: a receiver down for a while", .serialized)
struct ReceiverOutageTests {
    static let token = "outage-token-0123456789abcdef"

    @Test func backsOffIdlesAndDeliversOnceWhenTheReceiverReturns() async throws {
        let directory = try TemporaryDirectory("safety-outage")
        defer { directory.remove() }
        let receiverPort = try unusedLoopbackPort()
        let apiPort = try unusedLoopbackPort()
        let groups = TestGroups.wecom(20, port: receiverPort)
        let ledger = directory.file("ledger.sqlite")
        // Backoff 400 ms doubling to a 3.2 s cap (±20 % jitter): over a 10 s outage at most 7 attempts, at least 4.
        let config = try directory.write(
            "outage.yaml",
            SafetyConfig.yaml(
                groups: groups, ledger: ledger, concurrency: 8, timeout: "2s", attempts: 12, backoff: "400ms",
                maxBackoff: "3200ms", extra: SafetyConfig.api(port: apiPort, token: Self.token))
        )
        let daemon = try WatchedProcess.gridcast(
            ["serve", "--config", config], environment: ["GRIDCAST_LOG_LEVEL": "debug"])
        let api = APIClient(port: apiPort, token: Self.token)
        try await api.waitUntilServing()

        let posted = ContinuousClock.now
        #expect(try await api.post(#"{"id": "outage", "text": "不转账", "to": "all"}"#).get().status == 202)
        try await waitUntil { await api.counts(notice: "outage")["retry"] == 20 }
        // The outage, measured: CPU time of the daemon over a window well inside it.
        let ticksBefore = try #require(daemon.cpuTicks())
        let windowStart = ContinuousClock.now
        // The outage lasts 10 s from the post: a span of time, not a condition to await.
        try await Task.sleep(until: posted + .seconds(10))
        let window = ContinuousClock.now - windowStart
        let ticksAfter = try #require(daemon.cpuTicks())
        let cpuShare = Double(ticksAfter - ticksBefore) / clockTicksPerSecond / window.seconds

        let attemptsDuringOutage = try await SQLiteLedgerStore(path: ledger).deliveries(noticeID: "outage")
            .map(\.attempts)
        // The receiver comes back on the same port.
        let receiver = try await EmulatorServer.start(
            port: receiverPort, groups: TestGroups.wecom(20, port: receiverPort), enforceRateLimits: false)
        try await waitUntil(timeout: .seconds(20)) { await api.counts(notice: "outage")["sent"] == 20 }
        let received = try await receiver.received()

        await api.shutdown()
        #expect(await daemon.stop() == 0, "\(daemon.stderr)")
        try await receiver.stop()

        // Attempts follow the backoff schedule: 0, ~0.4, ~1.2, ~2.8, ~6 s, ~9.2 s… (jitter ±20 %): never more
        // than seven in 10 s (a busy machine only makes fewer), and more than one (it did retry).
        for attempts in attemptsDuringOutage {
            #expect((2...7).contains(attempts), "attempts in 10 s of outage: \(attemptsDuringOutage)")
        }
        // Delivered once each, and every attempt in the log was a connect failure (not sent), never in doubt.
        #expect(received.count == 20)
        #expect(Dictionary(received.map { ($0.group, 1) }, uniquingKeysWith: +).values.allSatisfy { $0 == 1 })
        let rows = try await SQLiteLedgerStore(path: ledger).deliveries(noticeID: "outage")
        #expect(rows.allSatisfy { $0.state == .sent })
        let verdicts = Set(
            daemon.stderr.split(separator: "\n").filter { $0.contains("msg=attempt") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("verdict=") }
            })
        #expect(verdicts == ["verdict=retry", "verdict=sent"], "\(verdicts)")
        daemon.discardOutput()
        print(
            "receiver outage: daemon CPU \(String(format: "%.1f", cpuShare * 100)) % of a core over \(window); "
                + "attempts per delivery during 10 s: \(attemptsDuringOutage.sorted())")
    }
}
