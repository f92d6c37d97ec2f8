import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// SIGTERM must end `serve` within a bound derived from its config, whatever a service is waiting for, so that a
/// service manager's stop timeout (systemd's `TimeoutStopSec`) is never the thing that ends it.
@Suite("shutdown bound", .serialized)
struct ShutdownBoundTests {
    @Test("SIGTERM ends serve even while a claim waits for its bot, and hands that claim back unsent")
    func sigtermEndsServeWhileAClaimWaitsForItsBot() async throws {
        let directory = try TemporaryDirectory("shutdown-bound")
        defer { directory.remove() }
        var groups = TestGroups.wecom(1, port: 0)
        let emulator = try await EmulatorServer.start(groups: groups, enforceRateLimits: false)
        groups = TestGroups.wecom(1, port: emulator.port)
        // Two messages a minute: the second claim waits 30 s for the bot, inside its lease (a longer wait would hand
        // it back at once, without waiting at all).
        groups[0].rate = .perMinute(2)
        let apiPort = try unusedLoopbackPort()
        let token = "shutdown-token-0123456789"
        let config = try directory.write(
            "shutdown.yaml",
            SafetyConfig.yaml(
                groups: groups, ledger: directory.file("ledger.sqlite"), timeout: "1s",
                extra: SafetyConfig.api(port: apiPort, token: token))
        )
        let daemon = try WatchedProcess.gridcast(["serve", "--config", config])
        let api = APIClient(port: apiPort, token: token)
        try await api.waitUntilServing()
        #expect(try await api.post(#"{"id": "first", "text": "一", "to": "all"}"#).get().status == 202)
        try await waitUntil(timeout: .seconds(60)) { await api.counts(notice: "first")["sent"] == 1 }
        // The second one is claimed and then waits for the bot's next slot, 30 s away.
        #expect(try await api.post(#"{"id": "second", "text": "二", "to": "all"}"#).get().status == 202)
        do {
            try await waitUntil(timeout: .seconds(60)) { await api.counts(notice: "second")["claimed"] == 1 }
        } catch {
            Issue.record("\(await api.counts(notice: "second")) \(daemon.stderr.suffix(3000))")
            throw error
        }
        await api.shutdown()

        daemon.signal(SIGTERM)
        // Bounded by the config (a request timeout of 1 s, plus the time to record it), not by the bot.
        try await waitUntil(timeout: .seconds(90)) { !daemon.isRunning }
        #expect(await daemon.wait() == 0, "\(daemon.stderr.suffix(1500))")
        let second = try await SQLiteLedgerStore(path: directory.file("ledger.sqlite")).deliveries(noticeID: "second")
        #expect(second.map(\.state) == [.planned], "handed back unsent, not sent and not in doubt")
        #expect(try await emulator.requestCount() == 1)
        daemon.discardOutput()
        try await emulator.stop()
    }
}
