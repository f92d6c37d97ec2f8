import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Testing

/// The commands that neither send nor serve, run as an operator would without the webhook secrets and the API
/// token in the environment: they work, and the read-only ones never create a ledger.
@Suite("Read-only work without secrets", .serialized)
struct ReadOnlyCLITests {

    /// A config whose group URLs (inline and in a groups file) and API token come from the environment, with a
    /// schedule over the bundled notice library.
    struct Setup {
        let server: EmulatorServer
        let directory: TemporaryDirectory
        let configPath: String
        var ledgerPath: String { directory.file("var/ledger.sqlite") }

        /// The variables the config's credentials name, as the service has them; given only to `send`.
        var secrets: [String: String] {
            ["RO_KEY_0": "key-g0000", "RO_KEY_1": "key-g0001", "RO_CREDENTIALS": directory.path]
        }

        /// Runs `gridcast` with an environment that lacks every variable of ``secrets``.
        func run(_ arguments: [String]) async throws -> GridcastProcess.Result {
            try await GridcastProcess.run(arguments, environment: ["GRIDCAST_LOG_LEVEL": "warning"])
        }

        func close() async throws {
            try await server.stop()
            directory.remove()
        }
    }

    func setup(ledger: String = "var/ledger.sqlite") async throws -> Setup {
        let directory = try TemporaryDirectory("read-only")
        _ = try directory.write("api-token", "read-only-tests-api-token\n")
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        _ = try directory.write("notices/001-five-donts.md", "---\nid: five-donts\ntitle: 牢记五不\n---\n不回拨、不转账。\n")
        let server = try await EmulatorServer.start(
            groups: TestGroups.wecom(2, port: 0), enforceRateLimits: false)
        let url = "http://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key="
        _ = try directory.write("groups.csv", "id,name,sink,url,tags\ng0001,网格群1,wecom,\(url)${RO_KEY_1},odd\n")
        let path = try directory.write(
            "gridcast.yaml",
            """
            timezone: Asia/Shanghai
            ledger:
              path: \(ledger)
            dispatch:
              backoff: 20ms
            api:
              listen: 127.0.0.1:0
              token_file: ${RO_CREDENTIALS}/api-token
            notices:
              dir: notices
            schedules:
              - id: morning
                cron: "31 9 * * *"
                to: all
            groups_file: groups.csv
            groups:
              - id: g0000
                name: 网格群0
                sink: wecom
                url: "\(url)${RO_KEY_0}"
                tags: [even]

            """)
        return Setup(server: server, directory: directory, configPath: path)
    }

    @Test func readOnlyAndLedgerCommandsNeedNoSecrets() async throws {
        let setup = try await setup()
        let config = setup.configPath
        let send = try await GridcastProcess.run(
            ["send", "--config", config, "--to", "all", "--id", "warn", "--text", "不转账"],
            environment: setup.secrets.merging(["GRIDCAST_LOG_LEVEL": "warning"]) { $1 })
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")

        let report = try await setup.run(["report", "daily", "--config", config, "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("\"sent\" : 2"))
        let weekly = try await setup.run(["report", "weekly", "--config", config, "--to", "tag:even"])
        #expect(weekly.status == 0, "\(weekly.stderr)")
        let list = try await setup.run(["ledger", "list", "--config", config])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("g0000") && list.stdout.contains("g0001"))
        let verify = try await setup.run(["ledger", "verify", "--config", config])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("ok "))
        let preview = try await setup.run(["schedule", "preview", "--config", config, "--days", "1"])
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("morning"))
        let resolve = try await setup.run([
            "ledger", "resolve", "--config", config, "--notice", "warn", "--all-in-doubt", "--as", "sent",
        ])
        #expect(resolve.status == 0, "\(resolve.stderr)")
        #expect(resolve.stdout.contains("no in_doubt deliveries"))
        let retry = try await setup.run(["ledger", "retry", "--config", config, "--notice", "warn"])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stdout.contains("no dead deliveries"))
        let cancel = try await setup.run(["ledger", "cancel", "--config", config, "--notice", "warn"])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.stdout.contains("0 deliveries cancelled"))

        let ledgerOnly = try await setup.run(["check", "--ledger-only", "--config", config])
        #expect(ledgerOnly.status == 0, "\(ledgerOnly.stderr)")
        #expect(ledgerOnly.stdout.hasPrefix("ok (ledger only): 2 groups (wecom 2)"))
        #expect(ledgerOnly.stdout.contains("RO_CREDENTIALS, RO_KEY_0, RO_KEY_1"), "\(ledgerOnly.stdout)")

        // What sends or serves still needs every variable, and says which is missing where.
        let check = try await setup.run(["check", "--config", config])
        #expect(check.status == 2)
        #expect(check.stderr.contains("\(config):8:15: api.token_file: environment variable RO_CREDENTIALS is not set"))
        #expect(check.stderr.contains("\(config):20:10: groups[0].url: environment variable RO_KEY_0 is not set"))
        #expect(check.stderr.contains("groups.csv:2: url: environment variable RO_KEY_1 is not set"))
        #expect(check.stderr.hasSuffix("gridcast.yaml: 3 problems\n"), "check could not have sent anything")
        let resend = try await setup.run(["send", "--config", config, "--to", "all", "--text", "又一条"])
        #expect(resend.status == 2)
        #expect(resend.stderr.contains("RO_KEY_0 is not set"))
        #expect(resend.stderr.contains("problems; nothing was sent"))
        #expect(try await setup.server.requestCount() == 2)
        try await setup.close()
    }

    @Test func readOnlyCommandsCreateNoLedger() async throws {
        let setup = try await setup(ledger: "state/none.sqlite")
        let config = setup.configPath
        let missing = setup.directory.file("state/none.sqlite")
        for arguments in [
            ["report", "daily", "--config", config], ["report", "monthly", "--config", config, "--format", "csv"],
            ["ledger", "list", "--config", config], ["ledger", "verify", "--config", config],
            ["schedule", "preview", "--config", config], ["ledger", "list", "--ledger", missing],
            ["report", "daily", "--ledger", missing],
            ["ledger", "retry", "--config", config, "--notice", "warn"],
            ["ledger", "cancel", "--config", config, "--notice", "warn"],
            ["ledger", "resolve", "--config", config, "--notice", "warn", "--all-in-doubt", "--as", "sent"],
        ] {
            let result = try await setup.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("no ledger at"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("nothing was sent"), "\(arguments)")
            #expect(!FileManager.default.fileExists(atPath: setup.directory.file("state")), "\(arguments)")
        }
        let ledgerOnly = try await setup.run(["check", "--ledger-only", "--config", config])
        #expect(ledgerOnly.status == 0, "\(ledgerOnly.stderr)")
        #expect(ledgerOnly.stdout.contains("not created yet"))
        #expect(!FileManager.default.fileExists(atPath: setup.directory.file("state")))
        try await setup.close()
    }

    @Test func ledgerOptionNamesTheLedgerWithOrWithoutAConfig() async throws {
        let setup = try await setup()
        let send = try await GridcastProcess.run(
            ["send", "--config", setup.configPath, "--to", "all", "--id", "warn", "--text", "不转账"],
            environment: setup.secrets)
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")
        // An auditor's copy, elsewhere: --ledger overrides the config's ledger.path, or stands alone.
        let copy = setup.directory.file("copy.sqlite")
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: setup.ledgerPath + suffix) {
            try FileManager.default.copyItem(atPath: setup.ledgerPath + suffix, toPath: copy + suffix)
            try FileManager.default.removeItem(atPath: setup.ledgerPath + suffix)
        }
        let withConfig = try await setup.run(["report", "daily", "--config", setup.configPath, "--ledger", copy])
        #expect(withConfig.status == 0, "\(withConfig.stderr)")
        #expect(withConfig.stdout.contains("共发布反诈信息 1 条，转发 2 个群"))
        let alone = try await setup.run(["report", "daily", "--ledger", copy, "--format", "json"])
        #expect(alone.status == 0, "\(alone.stderr)")
        #expect(alone.stdout.contains("\"timezone\" : \"Asia/Shanghai\""))
        let list = try await setup.run(["ledger", "list", "--ledger", copy, "--group", "g0001"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("g0001"))
        let unknown = try await setup.run(["ledger", "list", "--ledger", copy, "--group", "nobody"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no group 'nobody' in \(copy)"))
        let verify = try await setup.run(["ledger", "verify", "--config", setup.configPath, "--ledger", copy])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let toWithoutConfig = try await setup.run(["report", "daily", "--ledger", copy, "--to", "tag:even"])
        #expect(toWithoutConfig.status == 2)
        #expect(toWithoutConfig.stderr.contains("--to: needs --config"))
        let neither = try await setup.run(["ledger", "list"])
        #expect(neither.status == 2)
        #expect(neither.stderr.contains("give --config, --ledger or both"))
        #expect(!FileManager.default.fileExists(atPath: setup.ledgerPath))
        try await setup.close()
    }
}
