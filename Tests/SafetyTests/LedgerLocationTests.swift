import Emulator
import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Testing
import Transport

@testable import Ledger

/// Where the ledger is, and what happens when it isn't there: a relative `ledger.path` belongs to the config file,
/// not to the shell that runs gridcast; only `serve` and `send` create a ledger; and a ledger file deleted or
/// replaced under a running daemon stops it instead of being written into an unlinked file.
@Suite("ledger location: one ledger per config, whatever the working directory", .serialized)
struct LedgerLocationTests {
    /// A config in `<root>/conf/` with a relative ledger path, a one-notice library and a schedule.
    struct Setup {
        let root: TemporaryDirectory
        let config: String
        /// Where the ledger belongs: beside the config.
        var ledger: String { root.file("conf/var/ledger.sqlite") }

        init(emulatorPort: Int, groups: Int = 2, extra: String = "") throws {
            root = try TemporaryDirectory("ledger-location")
            try FileManager.default.createDirectory(
                atPath: root.file("conf/notices"), withIntermediateDirectories: true)
            try root.write(
                "conf/notices/001-first.md", "---\nid: first\ntitle: 第一条\n---\n不转账，不汇款。\n")
            config = try root.write(
                "conf/gridcast.yaml",
                SafetyConfig.yaml(
                    groups: TestGroups.wecom(groups, port: emulatorPort), ledger: "var/ledger.sqlite",
                    extra: """
                        notices:
                          dir: notices
                        schedules:
                          - id: morning
                            cron: "30 9 * * *"
                            to: all
                            pick: next-unsent
                        \(extra)
                        """)
            )
        }

        /// A fresh working directory, elsewhere.
        func elsewhere() throws -> TemporaryDirectory { try TemporaryDirectory("ledger-location-cwd") }
    }

    @Test("send from two working directories uses the one ledger beside the config and posts once")
    func sendFromTwoWorkingDirectoriesSendsOnce() async throws {
        let emulator = try await EmulatorServer.start(groups: TestGroups.wecom(2, port: 0), enforceRateLimits: false)
        let setup = try Setup(emulatorPort: emulator.port)
        defer { setup.root.remove() }
        let first = try setup.elsewhere()
        defer { first.remove() }
        let second = try setup.elsewhere()
        defer { second.remove() }
        let arguments = ["send", "--config", setup.config, "--to", "all", "--text", "不转账", "--id", "twice"]

        let one = try await GridcastProcess.run(arguments, in: first.path)
        #expect(one.status == 0, "\(one.stdout)\(one.stderr)")
        let two = try await GridcastProcess.run(arguments, in: second.path)
        #expect(two.status == 0, "\(two.stdout)\(two.stderr)")
        #expect(two.stdout.contains("already delivered"), "\(two.stdout)")

        #expect(FileManager.default.fileExists(atPath: setup.ledger))
        for directory in [first, second] {
            #expect(!FileManager.default.fileExists(atPath: directory.file("var/ledger.sqlite")))
        }
        #expect(try await emulator.received().count == 2, "each group once")
        try await emulator.stop()
    }

    @Test(
        "report, ledger and schedule preview on a missing ledger exit 2 and create nothing",
        arguments: [
            ["report", "daily"], ["ledger", "list"],
            ["ledger", "resolve", "--notice", "n", "--group", "g0000", "--as", "sent"],
            ["schedule", "preview"],
        ]
    )
    func readersNeverCreateALedger(command: [String]) async throws {
        let setup = try Setup(emulatorPort: 9)
        defer { setup.root.remove() }
        let cwd = try setup.elsewhere()
        defer { cwd.remove() }
        let result = try await GridcastProcess.run(command + ["--config", setup.config], in: cwd.path)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("no ledger at \(setup.ledger)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: setup.ledger))
        #expect(!FileManager.default.fileExists(atPath: setup.root.file("conf/var")))
        #expect(!FileManager.default.fileExists(atPath: cwd.file("var")))
    }

    @Test("a ledger left at the old working-directory location is not silently replaced by a new one")
    func oldLocationIsReported() async throws {
        let setup = try Setup(emulatorPort: 9)
        defer { setup.root.remove() }
        let cwd = try setup.elsewhere()
        defer { cwd.remove() }
        // What an earlier gridcast made when run from `cwd`.
        _ = try SQLiteLedgerStore(path: cwd.file("var/ledger.sqlite"))

        for command in [
            ["send", "--to", "all", "--text", "不转账"], ["serve"],
        ] {
            let running = try GridcastProcess.start(command + ["--config", setup.config], in: cwd.path)
            // `serve` would run on: stop it if it does rather than wait for it.
            if (try? await waitUntil(timeout: .seconds(60)) { !running.process.isRunning }) == nil { running.kill() }
            let result = try await running.wait()
            #expect(result.status == 2, "\(command): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains(cwd.file("var/ledger.sqlite")), "\(result.stderr)")
            #expect(result.stderr.contains(setup.ledger), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: setup.ledger), "\(command)")
        }
    }

    @Test("schedule preview opens the ledger read-only: it runs no migrations")
    func previewRunsNoMigrations() async throws {
        let setup = try Setup(emulatorPort: 9)
        defer { setup.root.remove() }
        // A ledger as an older gridcast left it: the newest migration not yet applied.
        try FileManager.default.createDirectory(
            atPath: setup.root.file("conf/var"), withIntermediateDirectories: true)
        _ = try SQLiteLedgerStore(path: setup.ledger)
        let newest = try #require(SQLiteLedgerStore.migrator.migrations.last)
        let queue = try DatabaseQueue(path: setup.ledger)
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [newest])
        }
        try queue.close()

        // Run beside the config, where earlier versions looked too: the same ledger either way.
        let result = try await GridcastProcess.run(
            ["schedule", "preview", "--config", setup.config], in: setup.root.file("conf"))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("first"), "\(result.stdout)")
        let reopened = try DatabaseQueue(path: setup.ledger)
        let applied = try await reopened.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(!applied.contains(newest), "preview migrated the ledger")
    }

    /// How the ledger file disappears from under the daemon.
    enum Removal: String, CaseIterable, Sendable {
        /// `rm gridcast.sqlite`.
        case deleted
        /// Another file renamed over it (a backup put back while the daemon runs).
        case replaced
    }

    @Test("a ledger file deleted or replaced under a running serve stops it with an error", arguments: Removal.allCases)
    func ledgerRemovedUnderServe(removal: Removal) async throws {
        let emulator = try await EmulatorServer.start(groups: TestGroups.wecom(2, port: 0), enforceRateLimits: false)
        let apiPort = try unusedLoopbackPort()
        let token = "location-token-0123456789"
        let setup = try Setup(emulatorPort: emulator.port, extra: SafetyConfig.api(port: apiPort, token: token))
        defer { setup.root.remove() }
        // Run beside the config, where earlier versions looked too: the same ledger either way.
        let daemon = try WatchedProcess.gridcast(["serve", "--config", setup.config], in: setup.root.file("conf"))
        let api = APIClient(port: apiPort, token: token)
        try await api.waitUntilServing()
        #expect(try await api.post(#"{"id": "before", "text": "不转账", "to": "all"}"#).get().status == 202)
        try await waitUntil(timeout: .seconds(60)) { await api.counts(notice: "before")["sent"] == 2 }

        switch removal {
        case .deleted:
            try FileManager.default.removeItem(atPath: setup.ledger)
        case .replaced:
            let copy = setup.ledger + ".restored"
            try FileManager.default.copyItem(atPath: setup.ledger, toPath: copy)
            #expect(rename(copy, setup.ledger) == 0)
        }
        try await waitUntil(timeout: .seconds(60)) { !daemon.isRunning }
        let status = await daemon.wait()
        #expect(status != 0, "\(daemon.stderr.suffix(3000))")
        #expect(daemon.stderr.contains("deleted or replaced"), "\(daemon.stderr.suffix(3000))")
        if removal == .deleted {
            #expect(!FileManager.default.fileExists(atPath: setup.ledger), "no new ledger appeared")
        }
        await api.shutdown()
        daemon.discardOutput()
        try await emulator.stop()
    }
}
