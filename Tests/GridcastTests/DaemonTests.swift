import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// `gridcast serve` as systemd runs it: the real binary, a loopback emulator, a real ledger.
@Suite("gridcast serve", .serialized)
struct DaemonTests {
    static let token = "daemon-test-token-0123456789"

    struct Setup {
        let server: EmulatorServer
        let directory: TemporaryDirectory
        let configPath: String
        let apiPort: Int
        let client = CurlTransport()

        var ledger: String { directory.file("ledger.sqlite") }

        func start() throws -> GridcastProcess.Running {
            try GridcastProcess.start(["serve", "--config", configPath], environment: ["GRIDCAST_LOG_LEVEL": "info"])
        }

        func http(
            _ method: String, _ path: String, token: String? = DaemonTests.token, body: String = ""
        ) async
            -> Result<HTTPResponse, TransportError>
        {
            var headers = [HTTPHeader("Content-Type", "application/json")]
            if let token { headers.append(HTTPHeader("Authorization", "Bearer \(token)")) }
            return await client.send(
                HTTPRequest(
                    method: method, url: "http://127.0.0.1:\(apiPort)\(path)", headers: headers,
                    body: Array(body.utf8), timeout: .seconds(5)
                )
            )
        }

        func status(
            _ method: String, _ path: String, token: String? = DaemonTests.token, body: String = ""
        ) async -> Int {
            (try? await http(method, path, token: token, body: body).get().status) ?? 0
        }

        func waitUntilServing() async throws {
            try await waitUntil { await status("GET", "/healthz", token: nil) == 200 }
        }

        func close() async throws {
            await client.shutdown()
            try await server.stop()
            directory.remove()
        }
    }

    static func freePort() async throws -> Int {
        let probe = try await EmulatorServer.start()
        let port = probe.port
        try await probe.stop()
        return port
    }

    func setup(groups count: Int = 12) async throws -> Setup {
        let directory = try TemporaryDirectory("daemon")
        let server = try await EmulatorServer.start(groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false)
        let groups = TestGroups.wecom(count, port: server.port)
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        for (index, theme) in ["不回拨陌生来电", "不点击陌生链接", "不向“安全账户”转账"].enumerated() {
            try directory.write(
                "notices/00\(index + 1)-n\(index + 1).md",
                "---\nid: n\(index + 1)\ntitle: 提醒\(index + 1)\n---\n\(theme)。\n"
            )
        }
        let apiPort = try await Self.freePort()
        let yaml = TestGroups.yaml(
            groups, ledger: directory.file("ledger.sqlite"),
            extra: """
                notices:
                  dir: notices
                schedules:
                  - id: every-minute
                    cron: "* * * * *"
                    to: all
                    pick: next-unsent
                    catch_up: 2m
                api:
                  listen: 127.0.0.1:\(apiPort)
                  token: \(Self.token)
                """
        )
        let path = try directory.write("gridcast.yaml", yaml)
        return Setup(server: server, directory: directory, configPath: path, apiPort: apiPort)
    }

    @Test func servesFiresOnceAcrossARestartAnswersTheAPIAndStopsCleanly() async throws {
        let setup = try await setup()
        var daemon = try setup.start()
        try await setup.waitUntilServing()
        // The schedule's latest minute is caught up at start: every group gets the first library notice.
        try await waitUntil { try await setup.server.received().count >= 12 }

        // The API.
        #expect(await setup.status("GET", "/healthz", token: nil) == 200)
        let alert = #"{"id":"alert-1","title":"紧急","text":"冒充医保局的电话又来了，挂断！","to":"tag:even","urgent":true}"#
        #expect(await setup.status("POST", "/v1/notices", token: nil, body: alert) == 401)
        #expect(await setup.status("POST", "/v1/notices", token: "wrong-token-wrong-token", body: alert) == 401)
        #expect(await setup.status("POST", "/v1/notices", body: alert) == 202)
        #expect(await setup.status("POST", "/v1/notices", body: alert) == 200)
        #expect(
            await setup.status("POST", "/v1/notices", body: alert.replacingOccurrences(of: "挂断", with: "别理")) == 409)
        try await waitUntil { try await setup.server.received().filter { $0.text.contains("冒充医保局") }.count == 6 }
        let metrics = try await setup.http("GET", "/metrics").get()
        #expect(metrics.status == 200)
        #expect(metrics.bodyText.contains("gridcast_deliveries_total"))
        #expect(metrics.bodyText.contains("gridcast_scheduler_firings_total"))
        #expect(!metrics.bodyText.contains(Self.token))

        // SIGTERM: exit 0, nothing claimed or in doubt.
        daemon.terminate()
        let first = try await daemon.wait()
        #expect(first.status == 0, "\(first.stderr)")
        let store = try SQLiteLedgerStore(path: setup.ledger)
        let rows = try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
        #expect(rows.allSatisfy { $0.state == .sent }, "\(rows.filter { $0.state != .sent }.map(\.state))")

        // A restart fires no firing twice: only a new minute (if one began meanwhile) fires.
        daemon = try setup.start()
        try await setup.waitUntilServing()
        daemon.terminate()
        #expect(try await daemon.wait().status == 0)
        let firings = try await store.firings(scheduleID: "every-minute")
        #expect(Set(firings.map(\.fireAt)).count == firings.count)
        let received = try await setup.server.received()
        let perPair = Dictionary(received.map { ("\($0.group)|\($0.text)", 1) }, uniquingKeysWith: +)
        #expect(perPair.values.allSatisfy { $0 == 1 }, "no group got any notice twice")
        let fired = firings.filter { $0.outcome == .fired }.count
        // A minute that began during the restart may have fired just before the second SIGTERM: its deliveries are
        // planned (handed back unsent), so count plans per firing and compare what was received with what is sent.
        let scheduled = try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
            .filter { $0.noticeID != "alert-1" }
        #expect(scheduled.count == 12 * fired, "one notice per group per firing")
        #expect(
            received.filter { !$0.text.contains("冒充医保局") }.count == scheduled.filter { $0.state == .sent }.count,
            "sent means received, once")
        try await setup.close()
    }

    @Test func sighupWithABadConfigKeepsTheRunningOne() async throws {
        let setup = try await setup(groups: 2)
        let daemon = try setup.start()
        try await setup.waitUntilServing()
        let good = try String(contentsOfFile: setup.configPath, encoding: .utf8)
        try (good + "\nunknown_key: 1\n").write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        // The daemon keeps answering with the old config: group g0001 still exists for the API.
        try await waitUntil {
            await setup.status("POST", "/v1/notices", body: #"{"text":"重载后","to":"group:g0001"}"#) == 202
        }
        try good.replacingOccurrences(of: "  - id: g0001", with: "  - id: g0009").write(
            toFile: setup.configPath, atomically: true, encoding: .utf8
        )
        kill(daemon.pid, SIGHUP)
        // The good config is taken: g0001 is gone, g0009 exists.
        try await waitUntil {
            await setup.status("POST", "/v1/notices", body: #"{"text":"新配置","to":"group:g0009"}"#) == 202
        }
        #expect(await setup.status("POST", "/v1/notices", body: #"{"text":"旧组","to":"group:g0001"}"#) == 422)
        daemon.terminate()
        let result = try await daemon.wait()
        #expect(result.status == 0)
        #expect(result.stderr.contains("reload refused"))
        #expect(result.stderr.contains("unknown key 'unknown_key'"))
        #expect(result.stderr.contains("config reloaded"))
        try await setup.close()
    }

    @Test func sighupThatRemovesTheQuietHoursSendsTheHeldNoticeNow() async throws {
        let setup = try await setup(groups: 2)
        // A window around now (Shanghai time, the config's timezone) that holds every non-urgent delivery.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        func clock(_ offset: TimeInterval) -> String {
            let parts = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(offset))
            return String(format: "%02d:%02d", parts.hour!, parts.minute!)
        }
        let open = try String(contentsOfFile: setup.configPath, encoding: .utf8)
        try (open + "\nquiet_hours: \"\(clock(-3600))-\(clock(7200))\"\n").write(
            toFile: setup.configPath, atomically: true, encoding: .utf8)
        let daemon = try setup.start()
        try await setup.waitUntilServing()
        #expect(await setup.status("POST", "/v1/notices", body: #"{"id":"held-1","text":"夜里不打扰","to":"all"}"#) == 202)
        let answer = try await setup.http("GET", "/v1/notices/held-1").get()
        #expect(answer.bodyText.contains(#""held_until":"20"#), "\(answer.bodyText)")

        // The window is dropped: the reload re-times the held rows, and both groups get the notice now, once.
        try open.write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        try await waitUntil { try await setup.server.received().filter { $0.text.contains("夜里不打扰") }.count == 2 }
        let store = try SQLiteLedgerStore(path: setup.ledger)
        try await waitUntil { try await store.deliveries(noticeID: "held-1").allSatisfy { $0.state == .sent } }
        daemon.terminate()
        let result = try await daemon.wait()
        #expect(result.status == 0)
        #expect(result.stderr.contains("held deliveries re-timed"), "\(result.stderr)")
        try await setup.close()
    }

    @Test func configWarningsAreLoggedAtStartAndAtReload() async throws {
        let setup = try await setup(groups: 2)
        try setup.directory.write("notices/009-nosuch.md", "---\nid: n9\ntitle: 提醒9\nto: tag:nosuch\n---\n不转账。\n")
        let daemon = try setup.start()
        try await setup.waitUntilServing()
        kill(daemon.pid, SIGHUP)
        try await waitUntil {
            ((try? String(contentsOfFile: daemon.stderrPath, encoding: .utf8)) ?? "").contains("config reloaded")
        }
        daemon.terminate()
        let result = try await daemon.wait()
        #expect(result.status == 0)
        let warnings = result.stderr.split(separator: "\n").filter {
            $0.contains("warning") && $0.contains("009-nosuch.md:4:5") && $0.contains("unknown tag 'nosuch'")
        }
        #expect(warnings.count == 2, "once at start, once at the reload: \(result.stderr)")
    }

    @Test func sigtermDuringAFanOutLeavesNothingClaimedOrInDoubt() async throws {
        let directory = try TemporaryDirectory("daemon-stop")
        let server = try await EmulatorServer.start(
            groups: TestGroups.wecom(200, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(30)
        )
        let groups = TestGroups.wecom(200, port: server.port)
        let apiPort = try await Self.freePort()
        let yaml = TestGroups.yaml(
            groups, ledger: directory.file("ledger.sqlite"), concurrency: 8,
            extra: "api:\n  listen: 127.0.0.1:\(apiPort)\n  token: \(Self.token)\n"
        )
        let setup = Setup(
            server: server, directory: directory, configPath: try directory.write("gridcast.yaml", yaml),
            apiPort: apiPort
        )
        let daemon = try setup.start()
        try await setup.waitUntilServing()
        #expect(await setup.status("POST", "/v1/notices", body: #"{"id":"big","text":"不转账","to":"all"}"#) == 202)
        try await waitUntil { try await server.received().count >= 30 }
        daemon.terminate()
        let result = try await daemon.wait()
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try await SQLiteLedgerStore(path: setup.ledger).deliveries(noticeID: "big")
        #expect(rows.allSatisfy { $0.state == .sent || $0.state == .planned })
        #expect(rows.contains { $0.state == .planned }, "the stop came mid fan-out")
        #expect(Set(rows.filter { $0.state == .sent }.map(\.groupID)) == Set(try await server.received().map(\.group)))
        try await setup.close()
    }
}
