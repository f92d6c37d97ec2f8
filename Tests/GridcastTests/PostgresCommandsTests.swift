import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing

/// Every command an operator runs works on a PostgreSQL ledger as on SQLite: `check --connect`, `send`, `report`,
/// `ledger list|resolve|retry|verify` and `schedule preview`, through the real binary. The URL carries a password
/// (the test server lets any in), which no output may show.
@Suite(
    "PostgreSQL: the commands on a shared ledger", .serialized,
    .enabled(if: PostgresTestServer.url != nil, "needs the test PostgreSQL server (scripts/test.sh starts it)"))
struct PostgresCommandsTests {
    static let password = "pg-secret-Zq8w1x"

    @Test func sendReportListResolveVerifyAndPreviewWorkOnPostgreSQL() async throws {
        let directory = try TemporaryDirectory("pg-cli")
        defer { directory.remove() }
        let server = try await EmulatorServer.start(
            groups: TestGroups.wecom(3, port: 0), faults: FaultPlan(faults: ["g0000": [.reset], "g0001": [.reset]]),
            enforceRateLimits: false)
        let groups = TestGroups.wecom(3, port: server.port)
        let url = try await PostgresTestServer.url(for: directory.path)
            .replacingOccurrences(of: "postgres@", with: "postgres:\(Self.password)@")
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        try directory.write("notices/001-morning.md", "---\nid: morning\ntitle: 早安提醒\n---\n不转账。\n")
        let config = try directory.write(
            "gridcast.yaml",
            TestGroups.yaml(
                groups, ledger: url,
                extra: """
                    notices:
                      dir: notices
                    schedules:
                      - id: morning
                        cron: "0 9 * * *"
                        to: all
                        pick: next-unsent
                    """))
        func run(_ arguments: [String]) async throws -> GridcastProcess.Result {
            let result = try await GridcastProcess.run(arguments, environment: ["GRIDCAST_LOG_LEVEL": "warning"])
            #expect(!result.stdout.contains(Self.password) && !result.stderr.contains(Self.password), "\(arguments)")
            return result
        }

        let fresh = try await run(["check", "--config", config, "--connect"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stdout.contains("ledger: connected to postgres://postgres@127.0.0.1:"), "\(fresh.stderr)")
        #expect(fresh.stdout.contains("no ledger yet"))

        let send = ["send", "--config", config, "--to", "all", "--id", "doubt", "--text", "不回拨"]
        let first = try await run(send)
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stdout.contains("1 of 3 groups sent, 0 dead, 2 in_doubt"))
        let connected = try await run(["check", "--config", config, "--connect"])
        #expect(connected.stdout.contains("schema pg2"), "\(connected.stdout)")

        let listed = try await run(["ledger", "list", "--config", config, "--state", "in_doubt", "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.map { $0["group_id"] as? String } == ["g0000", "g0001"], "\(listed.stderr)")
        let csv = try await run(["ledger", "list", "--config", config, "--notice", "doubt", "--format", "csv"])
        #expect(csv.stdout.split(separator: "\n").count == 4)

        let seen = try await run([
            "ledger", "resolve", "--config", config, "--notice", "doubt", "--group", "g0000", "--as", "sent",
            "--note", "checked the group",
        ])
        #expect(seen.status == 0, "\(seen.stderr)")
        let resend = try await run([
            "ledger", "resolve", "--config", config, "--notice", "doubt", "--group", "g0001", "--as", "resend",
        ])
        #expect(resend.status == 0, "\(resend.stderr)")
        let again = try await run(send)
        #expect(again.stdout.contains("3 of 3 groups sent, 0 dead, 0 in_doubt"), "\(again.stdout)\(again.stderr)")
        #expect(
            Dictionary(try await server.received().map { ($0.group, 1) }, uniquingKeysWith: +)
                == ["g0001": 1, "g0002": 1])

        let report = try await run(["report", "daily", "--config", config, "--format", "json"])
        let summary = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        #expect(summary?["sent"] as? Int == 3, "\(report.stdout)\(report.stderr)")
        let table = try await run(["report", "daily", "--config", config])
        #expect(table.stdout.contains("转发 3 个群"), "\(table.stdout)")

        let verified = try await run(["ledger", "verify", "--config", config])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("ok "))
        // The checkpoint it printed proves the ledger still extends it later.
        let checkpoint = String(verified.stdout.dropFirst(3).prefix { !$0.isNewline })
        let later = try await run(["ledger", "verify", "--config", config, "--checkpoint", checkpoint])
        #expect(later.status == 0, "\(later.stdout)")

        let preview = try await run(["schedule", "preview", "--config", config])
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("morning"))

        // An edit outside gridcast shows, as on SQLite.
        try await PostgresTestServer.execute(
            "UPDATE deliveries SET state = 'dead' WHERE group_id = 'g0002'", key: directory.path)
        let tampered = try await run(["ledger", "verify", "--config", config])
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("FAILED: deliveries row"), "\(tampered.stdout)")
        try await server.stop()
    }

    @Test func aLedgerThatCantBeReachedSaysWhyWithoutThePassword() async throws {
        let directory = try TemporaryDirectory("pg-unreachable")
        defer { directory.remove() }
        let port = try await DaemonTests.freePort()
        let config = try directory.write(
            "gridcast.yaml",
            TestGroups.yaml(
                TestGroups.wecom(1, port: 9),
                ledger: "postgres://gridcast:\(Self.password)@127.0.0.1:\(port)/gridcast"))
        for arguments in [
            ["check", "--config", config, "--connect"], ["ledger", "list", "--config", config],
            ["send", "--config", config, "--to", "all", "--text", "不转账"],
        ] {
            let result = try await GridcastProcess.run(arguments, environment: ["GRIDCAST_LOG_LEVEL": "trace"])
            #expect(result.status == 2, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("postgres://gridcast@127.0.0.1:\(port)/gridcast"), "\(result.stderr)")
            let output = result.stdout + result.stderr
            #expect(!output.contains(Self.password), "\(arguments)")
        }
    }
}
