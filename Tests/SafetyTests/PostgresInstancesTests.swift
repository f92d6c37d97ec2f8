import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// Several `gridcast serve` instances on one PostgreSQL ledger (docs/postgres.md): between them each delivery is
/// sent once, each schedule firing happens once, an instance killed mid fan-out has its claims ended by the others
/// at once, and a PostgreSQL restart mid fan-out loses nothing. Real processes, a real PostgreSQL server (the one
/// `scripts/test.sh` starts), the emulator as every platform.
@Suite(
    "PostgreSQL: several instances on one ledger", .serialized,
    .enabled(if: PostgresTestServer.url != nil, "needs the test PostgreSQL server (scripts/test.sh starts it)"))
struct PostgresInstancesTests {
    static let token = "postgres-instances-token-0123456789"

    /// Distinct free loopback ports.
    static func ports(_ count: Int) throws -> [Int] {
        var ports: [Int] = []
        while ports.count < count {
            let port = try unusedLoopbackPort()
            if !ports.contains(port) { ports.append(port) }
        }
        return ports
    }

    /// Starts `count` instances on `ledger`, each with its own API port and the same groups and `extra` settings.
    static func instances(
        _ count: Int, ledger: String, groups: [Group], in directory: TemporaryDirectory, concurrency: Int = 4,
        extra: String = ""
    ) throws -> (daemons: [WatchedProcess], apis: [APIClient]) {
        var daemons: [WatchedProcess] = []
        var apis: [APIClient] = []
        for (index, port) in try ports(count).enumerated() {
            let config = try directory.write(
                "gridcast-\(index).yaml",
                SafetyConfig.yaml(
                    groups: groups, ledger: ledger, concurrency: concurrency,
                    extra: extra + "\n" + SafetyConfig.api(port: port, token: token)))
            daemons.append(
                try WatchedProcess.gridcast(
                    ["serve", "--config", config], environment: ["GRIDCAST_LOG_LEVEL": "debug"]))
            apis.append(APIClient(port: port, token: token))
        }
        return (daemons, apis)
    }

    /// Messages received per (group, text): every value must be 1.
    static func copies(_ received: [ReceivedMessage]) -> [String: Int] {
        Dictionary(received.map { ("\($0.group)|\($0.text)", 1) }, uniquingKeysWith: +)
    }

    @Test func threeInstancesShareTheWorkSendEachDeliveryOnceAndFireEachMinuteOnce() async throws {
        let count = 300
        let directory = try TemporaryDirectory("pg-three")
        defer { directory.remove() }
        let ledger = try await PostgresTestServer.url(for: directory.path)
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(30))
        let groups = TestGroups.wecom(count, port: emulator.port)
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        for (index, theme) in ["不回拨陌生来电", "不点击陌生链接"].enumerated() {
            try directory.write(
                "notices/00\(index + 1)-n\(index + 1).md",
                "---\nid: n\(index + 1)\ntitle: 提醒\(index + 1)\n---\n\(theme)。\n")
        }
        let (daemons, apis) = try Self.instances(
            3, ledger: ledger, groups: groups, in: directory,
            extra: """
                notices:
                  dir: notices
                schedules:
                  - id: every-minute
                    cron: "* * * * *"
                    to: all
                    pick: next-unsent
                    catch_up: 2m
                """)
        do {
            for api in apis { try await api.waitUntilServing() }
            // One alert posted to the first instance, the same again to the second; another to the third.
            #expect(try await apis[0].post(#"{"id": "a1", "text": "紧急提醒：不转账", "to": "all"}"#).get().status == 202)
            #expect(try await apis[1].post(#"{"id": "a1", "text": "紧急提醒：不转账", "to": "all"}"#).get().status == 200)
            #expect(try await apis[2].post(#"{"id": "a2", "text": "紧急提醒：不扫码", "to": "all"}"#).get().status == 202)
            for notice in ["a1", "a2"] {
                try await waitUntil(timeout: .seconds(90)) { await apis[0].counts(notice: notice)["sent"] == count }
            }
            let store = try await PostgresTestServer.store(for: directory.path)
            try await waitUntil(timeout: .seconds(90)) {
                let firings = try await store.firings(scheduleID: "every-minute").filter { $0.outcome == .fired }
                guard !firings.isEmpty else { return false }
                let rows = try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
                return rows.allSatisfy { $0.state == .sent }
            }
            // Every instance sent some, and together they made one request per delivery.
            let sentBy = daemons.map { SharedLedgerTests.occurrences(of: "verdict=sent", in: $0.stderr) }
            #expect(sentBy.filter { $0 > 0 }.count >= 2, "attempts that ended sent, per instance: \(sentBy)")
            for daemon in daemons {
                #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
            }
            let firings = try await store.firings(scheduleID: "every-minute")
            #expect(Set(firings.map(\.fireAt)).count == firings.count, "each firing once: \(firings.map(\.fireAt))")
            let rows = try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
            #expect(rows.allSatisfy { $0.state == .sent || $0.state == .planned }, "\(Set(rows.map(\.state)))")
            let sentRows = rows.filter { $0.state == .sent }.count
            let received = try await emulator.received()
            #expect(Self.copies(received).values.allSatisfy { $0 == 1 }, "no group got any notice twice")
            #expect(received.count == sentRows, "sent means received, once")
            #expect(try await emulator.requestCount() == sentRows)
            guard case .ok = try await store.verify(checkpoint: nil) else {
                Issue.record("ledger verify failed after three instances wrote it")
                return
            }
            let instances = try await store.instances()
            #expect(instances.count == 3 && instances.allSatisfy { $0.stoppedAt != nil }, "\(instances)")
        } catch {
            Issue.record(error, "\(daemons.map { $0.stderr.suffix(1500) })")
        }
        try await stopAll(daemons, apis, emulator)
    }

    @Test func anInstanceKilledMidFanOutHasItsClaimsEndedByTheOthersAndNothingIsSentTwice() async throws {
        let count = 400
        let concurrency = 4
        let directory = try TemporaryDirectory("pg-kill")
        defer { directory.remove() }
        let ledger = try await PostgresTestServer.url(for: directory.path)
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(60))
        let groups = TestGroups.wecom(count, port: emulator.port)
        let (daemons, apis) = try Self.instances(
            3, ledger: ledger, groups: groups, in: directory, concurrency: concurrency)
        do {
            for api in apis { try await api.waitUntilServing() }
            #expect(try await apis[1].post(#"{"id": "k1", "text": "紧急提醒：不转账", "to": "all"}"#).get().status == 202)
            try await waitUntil { try await emulator.requestCount() >= 60 }
            daemons[0].signal(SIGKILL)
            _ = await daemons[0].wait()
            let store = try await PostgresTestServer.store(for: directory.path)
            try await waitUntil(timeout: .seconds(90)) {
                let rows = try await store.deliveries(noticeID: "k1")
                return rows.count == count && rows.allSatisfy { $0.state == .sent || $0.state == .inDoubt }
            }
            let rows = try await store.deliveries(noticeID: "k1")
            let doubtful = rows.filter { $0.state == .inDoubt }
            #expect(doubtful.count <= 2 * concurrency, "at most twice the concurrency per crash: \(doubtful.count)")
            #expect(
                doubtful.allSatisfy { $0.lastError?.contains("outcome unknown") == true },
                "\(doubtful.map(\.lastError))")
            let received = try await emulator.received()
            #expect(Self.copies(received).values.allSatisfy { $0 == 1 }, "no group got the notice twice")
            #expect(rows.filter { $0.state == .sent }.count <= received.count)
            for daemon in daemons.dropFirst() {
                #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
            }
            guard case .ok = try await store.verify(checkpoint: nil) else {
                Issue.record("ledger verify failed after a kill")
                return
            }
        } catch {
            Issue.record(error, "\(daemons.map { $0.stderr.suffix(1500) })")
        }
        try await stopAll(daemons, apis, emulator)
    }

    @Test func aPausedInstanceHasItsClaimsEndedAfterTheTimeoutAndSendsNothingForThemWhenItResumes() async throws {
        let count = 300
        let concurrency = 4
        let directory = try TemporaryDirectory("pg-pause")
        defer { directory.remove() }
        let ledger = try await PostgresTestServer.url(for: directory.path)
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(60))
        let groups = TestGroups.wecom(count, port: emulator.port)
        let (daemons, apis) = try Self.instances(
            2, ledger: ledger + "\n  instance_timeout: 5s", groups: groups, in: directory, concurrency: concurrency)
        do {
            for api in apis { try await api.waitUntilServing() }
            #expect(try await apis[1].post(#"{"id": "p1", "text": "紧急提醒：不转账", "to": "all"}"#).get().status == 202)
            try await waitUntil { try await emulator.requestCount() >= 40 }
            let store = try await PostgresTestServer.store(for: directory.path)
            // Frozen (a VM pause, SIGSTOP): alive, but no longer beating.
            daemons[0].signal(SIGSTOP)
            try await waitUntil(timeout: .seconds(30)) {
                try await store.deliveries(noticeID: "p1").contains {
                    $0.lastError?.contains("stopped beating") == true
                }
            }
            let beforeResume = try await emulator.requestCount()
            let resumedAt = Date()
            daemons[0].signal(SIGCONT)
            try await waitUntil(timeout: .seconds(90)) {
                let rows = try await store.deliveries(noticeID: "p1")
                return rows.allSatisfy { $0.state == .sent || $0.state == .inDoubt }
            }
            let rows = try await store.deliveries(noticeID: "p1")
            let doubtful = rows.filter { $0.state == .inDoubt }
            #expect(doubtful.count <= 2 * concurrency, "\(doubtful.count) in doubt")
            #expect(doubtful.allSatisfy { $0.lastError?.contains("stopped beating") == true })
            let received = try await emulator.received()
            #expect(Self.copies(received).values.allSatisfy { $0 == 1 }, "no group got the notice twice")
            // Resumed, the frozen instance sent nothing on the claims the other ended: those it had sent before it
            // froze (in flight, or answered and not yet recorded) arrived before; none after.
            let doubtfulGroups = Set(doubtful.map(\.groupID))
            let late = received.filter { $0.receivedAt > resumedAt && doubtfulGroups.contains($0.group) }
            #expect(late.isEmpty, "sent after its claim was ended: \(late.map(\.group))")
            #expect(beforeResume <= count)
            for daemon in daemons {
                #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
            }
        } catch {
            Issue.record(error, "\(daemons.map { $0.stderr.suffix(1500) })")
        }
        try await stopAll(daemons, apis, emulator)
    }

    @Test func aDatabaseOutageMidFanOutStopsClaimingSays503AndLosesNothing() async throws {
        let count = 300
        let concurrency = 4
        let directory = try TemporaryDirectory("pg-outage")
        defer { directory.remove() }
        let ledger = try await PostgresTestServer.url(for: directory.path)
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(60))
        let groups = TestGroups.wecom(count, port: emulator.port)
        let (daemons, apis) = try Self.instances(
            2, ledger: ledger + "\n  instance_timeout: 6s", groups: groups, in: directory, concurrency: concurrency)
        var crashed = false
        do {
            for api in apis { try await api.waitUntilServing() }
            #expect(try await apis[0].post(#"{"id": "o1", "text": "紧急提醒：不转账", "to": "all"}"#).get().status == 202)
            try await waitUntil { try await emulator.requestCount() >= 40 }
            try await PostgresTestServer.crash()
            crashed = true
            // Both instances keep running and say the ledger is unreachable.
            for api in apis {
                try await waitUntil(timeout: .seconds(30)) { await api.status("GET", "/healthz") == 503 }
            }
            // Requests already on the wire finish; nothing new is claimed, so nothing more is sent.
            try await Task.sleep(for: .seconds(2))
            let during = try await emulator.requestCount()
            try await Task.sleep(for: .seconds(2))
            #expect(try await emulator.requestCount() == during, "nothing is sent while the ledger is down")
            #expect(daemons.allSatisfy { $0.isRunning })
            try await PostgresTestServer.start()
            crashed = false
            for api in apis {
                try await waitUntil(timeout: .seconds(60)) { await api.status("GET", "/healthz") == 200 }
            }
            let store = try await PostgresTestServer.store(for: directory.path)
            try await waitUntil(timeout: .seconds(120)) {
                let rows = try await store.deliveries(noticeID: "o1")
                return rows.count == count && rows.allSatisfy { $0.state == .sent || $0.state == .inDoubt }
            }
            let rows = try await store.deliveries(noticeID: "o1")
            let received = try await emulator.received()
            #expect(Self.copies(received).values.allSatisfy { $0 == 1 }, "no group got the notice twice")
            // Outcomes known during the outage were kept and recorded once the database was back.
            #expect(rows.filter { $0.state == .inDoubt }.count <= 4 * concurrency)
            #expect(Set(received.map(\.group)).isSuperset(of: rows.filter { $0.state == .sent }.map(\.groupID)))
            for daemon in daemons {
                #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
            }
            guard case .ok = try await store.verify(checkpoint: nil) else {
                Issue.record("ledger verify failed after an outage")
                return
            }
        } catch {
            Issue.record(error, "\(daemons.map { $0.stderr.suffix(1500) })")
        }
        if crashed { try? await PostgresTestServer.start() }
        try await stopAll(daemons, apis, emulator)
    }

    @Test func instancesTogetherKeepOneBotsRate() async throws {
        let directory = try TemporaryDirectory("pg-pacing")
        defer { directory.remove() }
        let ledger = try await PostgresTestServer.url(for: directory.path)
        // One WeCom bot (20 messages a minute: one every 3 s) that five groups post through; the emulator
        // answers "too fast" (45009) to anything quicker, as WeCom does.
        let emulator = try await EmulatorServer.start(groups: TestGroups.wecom(1, port: 0))
        let bot = TestGroups.wecom(1, port: emulator.port)[0]
        let groups = (1...5).map { Group(id: "s\($0)", name: "同一机器人\($0)", sink: "wecom", url: bot.url) }
        let (daemons, apis) = try Self.instances(3, ledger: ledger, groups: groups, in: directory)
        do {
            for api in apis { try await api.waitUntilServing() }
            #expect(try await apis[0].post(#"{"id": "r1", "text": "紧急提醒：不转账", "to": "all"}"#).get().status == 202)
            try await waitUntil(timeout: .seconds(60)) { await apis[2].counts(notice: "r1")["sent"] == 5 }
            let arrivals = try await emulator.received().map(\.receivedAt).sorted()
            #expect(arrivals.count == 5)
            let gaps = zip(arrivals.dropFirst(), arrivals).map { $0.timeIntervalSince($1) }
            // Three instances each pacing on their own would send three at once; shared, one slot at a time.
            #expect(gaps.allSatisfy { $0 >= 2.5 }, "seconds between messages to one bot: \(gaps)")
            let sentBy = daemons.map { SharedLedgerTests.occurrences(of: "verdict=sent", in: $0.stderr) }
            #expect(sentBy.filter { $0 > 0 }.count >= 2, "the bot's messages came from several instances: \(sentBy)")
            #expect(daemons.allSatisfy { !$0.stderr.contains("verdict=rate_limited") }, "no \"too fast\" answer")
            for daemon in daemons {
                #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
            }
        } catch {
            Issue.record(error, "\(daemons.map { $0.stderr.suffix(1500) })")
        }
        try await stopAll(daemons, apis, emulator)
    }
}
