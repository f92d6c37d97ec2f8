import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// A small ext4 filesystem on a loop device, for a ledger whose disk can be filled or made read-only.
struct LoopVolume: Sendable {
    let image: String
    let mountPoint: String

    static func mount(in directory: TemporaryDirectory, sizeMiB: Int) async throws -> LoopVolume {
        let volume = LoopVolume(image: directory.file("volume.img"), mountPoint: directory.file("volume"))
        try FileManager.default.createDirectory(atPath: volume.mountPoint, withIntermediateDirectories: true)
        try await runTool("/usr/bin/truncate", ["-s", "\(sizeMiB)M", volume.image])
        try await runTool("/usr/sbin/mkfs.ext4", ["-q", "-F", "-m", "0", volume.image])
        try await runTool("/usr/bin/mount", ["-o", "loop", volume.image, volume.mountPoint])
        return volume
    }

    func path(_ name: String) -> String { (mountPoint as NSString).appendingPathComponent(name) }

    /// Writes filler files until the filesystem has no block left.
    func fill() throws {
        var index = 0
        for chunk in [1 << 20, 4096, 512, 1] {
            index += 1
            let descriptor = open(path("filler-\(index)"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard descriptor >= 0 else { throw SafetyFailure("cannot create a filler file: errno \(errno)") }
            let buffer = [UInt8](repeating: 0x5a, count: chunk)
            while buffer.withUnsafeBytes({ write(descriptor, $0.baseAddress, chunk) }) == chunk {}
            fsync(descriptor)
            close(descriptor)
        }
    }

    func removeFillers() {
        for index in 1...4 { unlink(path("filler-\(index)")) }
    }

    func unmount() async {
        _ = try? await runTool("/usr/bin/umount", [mountPoint])
    }
}

/// The ledger's disk fills up, or the ledger becomes read-only, while `gridcast
/// serve` has deliveries due. Nothing may be sent without a durable claim, the operator must be told why, and when
/// the disk is writable again every delivery completes, once.
///
/// Either of two designs passes: the daemon stays up (claims nothing, logs the error, doesn't spin, and resumes
/// by itself), or it exits non-zero with the error logged and is started again, as systemd's `Restart=on-failure`
/// does.
@Suite(
    "Resource faults: the ledger becomes unwritable", .serialized,
    .enabled(if: getuid() == 0, "mounting a small filesystem needs root")
)
struct LedgerFaultTests {
    static let token = "ledger-fault-token-0123456789"

    enum Fault: String, CaseIterable, Sendable {
        case diskFull = "disk full"
        case readOnly = "read-only (chattr +i)"
    }

    func apply(_ fault: Fault, to volume: LoopVolume, ledgerDirectory: String) async throws {
        switch fault {
        case .diskFull:
            try volume.fill()
        case .readOnly:
            let files = try FileManager.default.contentsOfDirectory(atPath: ledgerDirectory).map {
                (ledgerDirectory as NSString).appendingPathComponent($0)
            }
            try await runTool("/usr/bin/chattr", ["+i"] + files + [ledgerDirectory])
        }
    }

    func remove(_ fault: Fault, from volume: LoopVolume, ledgerDirectory: String) async {
        switch fault {
        case .diskFull:
            volume.removeFillers()
        case .readOnly:
            let files =
                ((try? FileManager.default.contentsOfDirectory(atPath: ledgerDirectory)) ?? []).map {
                    (ledgerDirectory as NSString).appendingPathComponent($0)
                }
            _ = try? await runTool("/usr/bin/chattr", ["-i", ledgerDirectory] + files)
        }
    }

    @Test(arguments: Fault.allCases)
    func nothingIsSentWithoutADurableClaimAndAllCompletesOnceWhenWritableAgain(fault: Fault) async throws {
        let directory = try TemporaryDirectory("safety-ledger-fault")
        let volume = try await LoopVolume.mount(in: directory, sizeMiB: 16)
        let ledgerDirectory = volume.path("ledger")
        try FileManager.default.createDirectory(atPath: ledgerDirectory, withIntermediateDirectories: true)
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(6, port: 0),
            faults: FaultPlan(faults: Dictionary(uniqueKeysWithValues: (0..<6).map { ("g000\($0)", [.busy]) })),
            enforceRateLimits: false
        )
        let apiPort = try unusedLoopbackPort()
        let config = try directory.write(
            "gridcast.yaml",
            SafetyConfig.yaml(
                groups: TestGroups.wecom(6, port: emulator.port), ledger: ledgerDirectory + "/ledger.sqlite",
                concurrency: 4, attempts: 5, backoff: "5s", maxBackoff: "5s",
                extra: SafetyConfig.api(port: apiPort, token: Self.token))
        )
        var daemons: [WatchedProcess] = []
        let api = APIClient(port: apiPort, token: Self.token)
        func startDaemon() throws -> WatchedProcess {
            let daemon = try WatchedProcess.gridcast(["serve", "--config", config])
            daemons.append(daemon)
            return daemon
        }
        do {
            var daemon = try startDaemon()
            try await api.waitUntilServing()
            #expect(try await api.post(#"{"id": "first", "text": "第一条：不转账", "to": "all"}"#).get().status == 202)
            // Every group answered "busy": six retries are due in 5 s (±20 %), time enough for the fault to be in
            // place first even where a loaded machine takes seconds to fill the volume.
            try await waitUntil { await api.counts(notice: "first")["retry"] == 6 }
            let retriesDue = ContinuousClock.now + .milliseconds(6000)
            let requestsBefore = try await emulator.requestCount()
            #expect(requestsBefore == 6)

            try await apply(fault, to: volume, ledgerDirectory: ledgerDirectory)
            let logOffset = daemon.stderr.count
            func newErrorLines() -> [Substring] {
                daemon.stderr.dropFirst(logOffset).split(separator: "\n").filter {
                    ($0.contains("level=error") || $0.contains("level=critical")) && !$0.contains("logger=gridcast.api")
                }
            }
            // A new notice can't be planned: the API says so instead of accepting it.
            switch await api.post(#"{"id": "second", "text": "第二条：不点击", "to": "all"}"#) {
            case .success(let response):
                #expect(![200, 202].contains(response.status), "planned on an unwritable ledger: \(response.status)")
            case .failure(let failure):
                // No answer is a refusal only from a daemon that is exiting on the unwritable ledger.
                do {
                    try await waitUntil(timeout: .seconds(10)) { !daemon.isRunning }
                } catch {
                    Issue.record("the API gave no answer to a post (\(failure)) and the daemon kept running")
                }
            }
            // The retries fall due; the dispatcher must fail to claim them and say so (or exit saying so).
            try await Task.sleep(until: retriesDue + .seconds(1))
            do {
                try await waitUntil(timeout: .seconds(10)) { !daemon.isRunning || !newErrorLines().isEmpty }
            } catch {
                Issue.record(
                    "no error logged by the dispatcher for the unwritable ledger: \(daemon.stderr.suffix(1500))")
            }
            #expect(
                try await emulator.requestCount() == requestsBefore,
                "a request left without a durable claim")
            if daemon.isRunning {
                // Still up: it must not spin while the ledger refuses writes. Each failed try says when the next
                // one comes, and the waits grow.
                func waits() -> [Double] {
                    newErrorLines().compactMap { line -> Double? in
                        guard let range = line.range(of: "retry_in=\"") else { return nil }
                        return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
                    }
                }
                try await waitUntil(timeout: .seconds(20)) { waits().count >= 3 || !daemon.isRunning }
                let seen = waits()
                #expect(seen.count >= 3, "\(daemon.stderr.suffix(1500))")
                #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 <= $1 } && seen.last! > seen.first!, "\(seen)")
                #expect(await api.status("GET", "/healthz") == 200, "the API went away but the process stayed")
            } else {
                let status = await daemon.wait()
                #expect(status != 0, "an exit on an unwritable ledger must be a failure, for Restart=on-failure")
            }
            let errors = newErrorLines()
            #expect(
                errors.contains { $0.contains("disk is full") || $0.contains("readonly") || $0.contains("ledger") },
                "a clear log line names the ledger problem: \(errors)")
            #expect(try await emulator.requestCount() == requestsBefore)

            // Space returns (or the ledger is writable again).
            await remove(fault, from: volume, ledgerDirectory: ledgerDirectory)
            if !daemon.isRunning {
                daemon = try startDaemon()
                try await api.waitUntilServing()
            }
            try await waitUntil(timeout: .seconds(30)) { await api.counts(notice: "first")["sent"] == 6 }
            #expect(try await api.post(#"{"id": "third", "text": "第三条：不透露", "to": "all"}"#).get().status == 202)
            try await waitUntil(timeout: .seconds(30)) { await api.counts(notice: "third")["sent"] == 6 }
            let received = try await emulator.received()
            for prefix in ["第一条", "第三条"] {
                let groups = received.filter { $0.text.contains(prefix) }.map(\.group)
                #expect(groups.sorted() == (0..<6).map { "g000\($0)" }, "\(prefix): each group once")
            }
            #expect(!received.contains { $0.text.contains("第二条") })
            #expect(await api.status("GET", "/v1/notices/second") == 404, "the refused notice was never planned")
            #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(1500))")
        } catch {
            Issue.record(error)
        }
        for daemon in daemons {
            if daemon.isRunning { daemon.signal(SIGKILL) }
            _ = await daemon.wait()
            daemon.discardOutput()
        }
        await api.shutdown()
        await remove(fault, from: volume, ledgerDirectory: ledgerDirectory)
        await volume.unmount()
        try await emulator.stop()
        directory.remove()
    }
    /// The disk fills up in the middle of a `gridcast send` fan-out, under either in-doubt policy. The answers that
    /// came back are kept and recorded when the disk has room again; meanwhile nothing new is claimed or sent; no
    /// group gets the notice twice; and nothing the platform confirmed ends in doubt.
    @Test(arguments: [InDoubtPolicy.hold, .resend])
    func aLedgerThatFailsMidFanOutLosesNoAnswerAndSendsNothingTwice(policy: InDoubtPolicy) async throws {
        let directory = try TemporaryDirectory("safety-ledger-midway")
        let volume = try await LoopVolume.mount(in: directory, sizeMiB: 16)
        let count = 120
        let concurrency = 8
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(count, port: 0), enforceRateLimits: false, responseDelay: .milliseconds(150))
        let ledger = volume.path("ledger.sqlite")
        let config = try directory.write(
            "gridcast.yaml",
            SafetyConfig.yaml(
                groups: TestGroups.wecom(count, port: emulator.port), ledger: ledger, concurrency: concurrency,
                timeout: "10s", extra: "  in_doubt: \(policy.rawValue)\n"))
        let send = try WatchedProcess.gridcast([
            "send", "--config", config, "--to", "all", "--id", "midway", "--text", "今日提醒：不转账",
        ])
        do {
            try await waitUntil { try await emulator.requestCount() >= 3 * concurrency }
            try volume.fill()
            func failures() -> Int { send.stderr.components(separatedBy: "ledger write failed").count - 1 }
            try await waitUntil(timeout: .seconds(30)) { failures() >= 1 || !send.isRunning }
            let atFailure = try await emulator.requestCount()
            // A second failed try comes after the first backoff: by then the requests in flight have answered.
            try await waitUntil(timeout: .seconds(30)) { failures() >= 2 || !send.isRunning }
            #expect(send.isRunning, "send gave up on a ledger that could recover: \(send.stderr.suffix(2000))")
            let whileFull = try await emulator.requestCount()
            #expect(
                whileFull - atFailure <= 2 * concurrency,
                "only claims made before the failure were sent while the ledger failed")
            volume.removeFillers()
            let status = await send.wait()
            #expect(status == 0, "\(send.stdout.suffix(1500))\n\(send.stderr.suffix(1500))")
            let received = try await emulator.received()
            #expect(received.count == count, "each group exactly once")
            #expect(Set(received.map(\.group)).count == count)
            let store = try SQLiteLedgerStore(path: ledger)
            let rows = try await store.deliveries(noticeID: "midway")
            #expect(rows.count == count)
            #expect(rows.allSatisfy { $0.state == .sent && $0.attempts == 1 }, "\(rows.filter { $0.state != .sent })")
        } catch {
            Issue.record(error)
        }
        if send.isRunning { send.signal(SIGKILL) }
        _ = await send.wait()
        send.discardOutput()
        volume.removeFillers()
        await volume.unmount()
        try await emulator.stop()
        directory.remove()
    }
}
