import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// Work that changes hands while a fan-out runs: a SIGHUP reload restarts the dispatcher with the new config, and
/// two `gridcast serve` processes share one ledger. Each group must still get each notice exactly once, and a
/// handover must leave nothing in doubt (docs/ledger.md: exclusive claims, fenced outcomes).
@Suite("Handovers: a reload mid fan-out, two daemons on one ledger", .serialized)
struct SharedLedgerTests {
    static let token = "shared-ledger-token-0123456789"

    /// How often `text` occurs in `log`.
    static func occurrences(of text: String, in log: String) -> Int {
        log.components(separatedBy: text).count - 1
    }

    /// Messages received per (group, text): every value must be 1.
    static func copies(_ received: [ReceivedMessage]) -> [String: Int] {
        Dictionary(received.map { ("\($0.group)|\($0.text)", 1) }, uniquingKeysWith: +)
    }

    /// The value of the Prometheus sample line `series` (name and labels as printed), nil when absent; fails when
    /// the series is printed more than once.
    static func sample(_ series: String, in metrics: String) -> Double? {
        let lines = metrics.split(separator: "\n").filter { $0.hasPrefix(series + " ") }
        #expect(lines.count <= 1, "one line per series: \(lines)")
        return lines.first.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    @Test func aReloadMidFanOutSendsEveryGroupOnceAndLeavesNothingInDoubt() async throws {
        let count = 300
        let directory = try TemporaryDirectory("safety-reload")
        defer { directory.remove() }
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(40))
        let groups = TestGroups.wecom(count, port: emulator.port)
        let apiPort = try unusedLoopbackPort()
        let ledger = directory.file("ledger.sqlite")
        func yaml(concurrency: Int, timeout: String) -> String {
            SafetyConfig.yaml(
                groups: groups, ledger: ledger, concurrency: concurrency, timeout: timeout,
                extra: SafetyConfig.api(port: apiPort, token: Self.token))
        }
        let config = try directory.write("gridcast.yaml", yaml(concurrency: 8, timeout: "5s"))
        let daemon = try WatchedProcess.gridcast(
            ["serve", "--config", config], environment: ["GRIDCAST_LOG_LEVEL": "debug"])
        let api = APIClient(port: apiPort, token: Self.token)
        func reloads() -> Int { Self.occurrences(of: "config reloaded", in: daemon.stderr) }
        do {
            try await api.waitUntilServing()
            #expect(try await api.post(#"{"id": "reload", "text": "今日提醒：不转账", "to": "all"}"#).get().status == 202)

            // A changed config (fewer requests in flight, another timeout) once the fan-out is under way.
            try await waitUntil { try await emulator.requestCount() >= 40 }
            try directory.write("gridcast.yaml", yaml(concurrency: 3, timeout: "6s"))
            daemon.signal(SIGHUP)
            try await waitUntil { reloads() == 1 }
            let atFirst = try await emulator.requestCount()
            // The same config again, later in the fan-out.
            try await waitUntil { try await emulator.requestCount() >= atFirst + 30 }
            daemon.signal(SIGHUP)
            try await waitUntil { reloads() == 2 }
            let atSecond = try await emulator.requestCount()
            #expect(atSecond < count, "the second reload came before the fan-out ended: \(atSecond) of \(count)")

            try await waitUntil(timeout: .seconds(60)) { await api.counts(notice: "reload")["sent"] == count }
            #expect(await api.counts(notice: "reload") == ["sent": count])
            // Each reload ended a dispatch cycle that had sent part of the notice, and a new one took over.
            let cycles = daemon.stderr.split(separator: "\n").filter { $0.contains("dispatch cycle ended") }
            #expect(cycles.count == 2, "\(cycles)")

            let received = try await emulator.received()
            #expect(received.count == count, "no request was sent twice")
            #expect(Set(received.map(\.group)) == Set(groups.map(\.id)))
            #expect(Self.copies(received).values.allSatisfy { $0 == 1 })
            #expect(try await emulator.requestCount() == count)

            let rows = try await SQLiteLedgerStore(path: ledger).deliveries(noticeID: "reload")
            #expect(rows.count == count)
            #expect(rows.allSatisfy { $0.state == .sent }, "\(rows.filter { $0.state != .sent })")

            // The metric objects outlive the deliveries: one series, counting every one of them.
            let metrics = try await api.call("GET", "/metrics").get().bodyText
            #expect(
                Self.sample(#"gridcast_deliveries_total{sink="wecom",outcome="sent"}"#, in: metrics)
                    == Double(count), "\(metrics)")
        } catch {
            Issue.record(error, "\(daemon.stderr.suffix(2000))")
        }
        await api.shutdown()
        #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
        #expect(!daemon.stderr.contains("level=error"), "\(daemon.stderr.suffix(2000))")
        daemon.discardOutput()
        try await emulator.stop()
    }

    @Test func twoDaemonsOnOneLedgerBothDispatchAndSendEachDeliveryOnce() async throws {
        let count = 300
        let directory = try TemporaryDirectory("safety-two-daemons")
        defer { directory.remove() }
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(40))
        let groups = TestGroups.wecom(count, port: emulator.port)
        let ledger = directory.file("ledger.sqlite")
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        for (index, theme) in ["不回拨陌生来电", "不点击陌生链接", "不向“安全账户”转账"].enumerated() {
            try directory.write(
                "notices/00\(index + 1)-n\(index + 1).md",
                "---\nid: n\(index + 1)\ntitle: 提醒\(index + 1)\n---\n\(theme)。\n")
        }
        // The same config but for the API's port; a schedule that fires every minute, caught up at start by both.
        var ports = [try unusedLoopbackPort()]
        while ports.count < 2 {
            let port = try unusedLoopbackPort()
            if port != ports[0] { ports.append(port) }
        }
        var daemons: [WatchedProcess] = []
        for (index, port) in ports.enumerated() {
            let config = try directory.write(
                "gridcast-\(index).yaml",
                SafetyConfig.yaml(
                    groups: groups, ledger: ledger, concurrency: 4,
                    extra: """
                        notices:
                          dir: notices
                        schedules:
                          - id: every-minute
                            cron: "* * * * *"
                            to: all
                            pick: next-unsent
                            catch_up: 2m
                        \(SafetyConfig.api(port: port, token: Self.token))
                        """))
            daemons.append(
                try WatchedProcess.gridcast(
                    ["serve", "--config", config], environment: ["GRIDCAST_LOG_LEVEL": "debug"]))
        }
        let apis = ports.map { APIClient(port: $0, token: Self.token) }
        do {
            for api in apis { try await api.waitUntilServing() }
            // A notice posted to the first daemon only.
            #expect(try await apis[0].post(#"{"id": "shared", "text": "今日提醒：不转账", "to": "all"}"#).get().status == 202)
            #expect(try await apis[1].post(#"{"id": "shared", "text": "今日提醒：不转账", "to": "all"}"#).get().status == 200)
            try await waitUntil(timeout: .seconds(60)) { await apis[1].counts(notice: "shared")["sent"] == count }
            #expect(await apis[0].counts(notice: "shared") == ["sent": count])

            let store = try SQLiteLedgerStore(path: ledger)
            let scheduled = { @Sendable () async throws -> [DeliveryRecord] in
                try await store.deliveries(changedFrom: .distantPast, to: .distantFuture).filter {
                    $0.noticeID != "shared"
                }
            }
            try await waitUntil(timeout: .seconds(60)) {
                let rows = try await scheduled()
                return !rows.isEmpty && rows.allSatisfy { $0.state == .sent }
            }
            // Both processes sent: each logs its own attempts, and together they made one per delivery.
            let sentBy = daemons.map { Self.occurrences(of: "verdict=sent", in: $0.stderr) }
            #expect(sentBy.allSatisfy { $0 > 0 }, "attempts that ended sent, per daemon: \(sentBy)")

            for daemon in daemons {
                #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
            }
            // Stopped: nothing more can fire or be sent.
            let firings = try await store.firings(scheduleID: "every-minute")
            #expect(!firings.isEmpty)
            #expect(Set(firings.map(\.fireAt)).count == firings.count, "each firing once: \(firings.map(\.fireAt))")
            let fired = firings.filter { $0.outcome == .fired }.count
            let rows = try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
            #expect(rows.filter { $0.noticeID != "shared" }.count == count * fired, "one notice per group per firing")
            // A minute that began just before the stop may have planned deliveries that were handed back unsent.
            #expect(rows.allSatisfy { $0.state == .sent || $0.state == .planned }, "\(rows.map(\.state))")
            let sentRows = rows.filter { $0.state == .sent }.count

            let received = try await emulator.received()
            #expect(Self.copies(received).values.allSatisfy { $0 == 1 }, "no group got any notice twice")
            #expect(received.count == sentRows, "sent means received, once")
            #expect(try await emulator.requestCount() == sentRows)
            #expect(sentBy.reduce(0, +) <= sentRows)
            let final = daemons.map { Self.occurrences(of: "verdict=sent", in: $0.stderr) }
            #expect(final.reduce(0, +) == sentRows, "one request per delivery across both daemons: \(final)")
            #expect(received.filter { $0.text.contains("今日提醒：不转账") }.count == count)
        } catch {
            Issue.record(error, "\(daemons.map { $0.stderr.suffix(1500) })")
        }
        try await stopAll(daemons, apis, emulator)
    }
}
