import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing
import Transport

/// `gridcast wecom groups` run as a built binary against a real emulator playing the config's app and customer
/// groups: the table, CSV rows that load back as the same groups, the owner filter, and the errors an operator meets.
@Suite("CLI: gridcast wecom groups")
struct WeComGroupsCommandTests {
    static let secret = "town-secret-do-not-print"

    /// The config: app `town` at `api`, three groups of zhangsan (one name needing CSV quotes), one of lisi.
    static func yaml(api: String, ledger: String, secret: String = secret) -> String {
        """
        timezone: Asia/Shanghai
        ledger:
          path: \(ledger)
        wecom_apps:
          - id: town
            corp_id: ww-town-corp
            secret: \(secret)
            api: \(api)
        groups:
          - id: cg-a
            name: 凌水居民一群
            sink: wecom-customer-group
            app: town
            chat_id: wrAAAchat01
            owner: zhangsan
          - id: cg-b
            name: '星海, "老年" 群'
            sink: wecom-customer-group
            app: town
            chat_id: wrAAAchat02
            owner: zhangsan
          - id: cg-c
            name: 凌水居民三群
            sink: wecom-customer-group
            app: town
            chat_id: wrAAAchat03
            owner: zhangsan
          - id: cg-d
            name: 星海商户群
            sink: wecom-customer-group
            app: town
            chat_id: wrBBBchat01
            owner: lisi

        """
    }

    /// Runs `body` with an emulator started from the config's apps and groups, and a config for the CLI whose app
    /// calls that emulator.
    func withEmulator(
        secret: String = secret, _ body: (_ config: String, _ server: EmulatorServer) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory("wecom-groups")
        defer { directory.remove() }
        let ledger = directory.file("ledger.sqlite")
        let emulated = try directory.write("emulated.yaml", Self.yaml(api: "http://127.0.0.1:1", ledger: ledger))
        let loaded = try ConfigLoader(catalog: SinkRegistry.standard).load(path: emulated)
        let server = try await EmulatorServer.start(groups: loaded.groups, wecomApps: loaded.wecomApps)
        do {
            let config = try directory.write(
                "gridcast.yaml", Self.yaml(api: "http://127.0.0.1:\(server.port)", ledger: ledger, secret: secret))
            try await body(config, server)
        } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
        #expect(!FileManager.default.fileExists(atPath: ledger), "listing groups opens no ledger")
    }

    @Test func theTableListsEveryGroupWithItsOwnerAndMembers() async throws {
        try await withEmulator { config, _ in
            let result = try await GridcastProcess.run(["wecom", "groups", "--config", config, "--app", "town"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 5)
            #expect(lines.first?.hasPrefix("CHAT_ID") == true)
            #expect(lines.first?.hasSuffix("MEMBERS") == true)
            // Sorted by owner, then name.
            #expect(
                lines.dropFirst().map { $0.split(separator: " ").first.map(String.init) ?? "" } == [
                    "wrBBBchat01", "wrAAAchat01", "wrAAAchat03", "wrAAAchat02",
                ])
            #expect(lines[1].contains("星海商户群") && lines[1].contains("lisi") && lines[1].hasSuffix("1"))
            #expect(result.stderr.contains("4 customer groups of 2 owners seen by app town"))
            #expect(!result.stdout.contains(Self.secret) && !result.stderr.contains(Self.secret))
        }
    }

    @Test func aConfigWithOnlyItsAppListsTheGroupsToConfigure() async throws {
        try await withEmulator { config, server in
            let directory = try TemporaryDirectory("wecom-groups-first")
            defer { directory.remove() }
            let first = try String(contentsOfFile: config, encoding: .utf8)
            let appOnly = String(first[..<first.range(of: "groups:\n")!.lowerBound])
            let path = try directory.write("first.yaml", appOnly)
            let result = try await GridcastProcess.run(["wecom", "groups", "--config", path, "--app", "town"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").count == 5)
            // Every other command still needs groups.
            let check = try await GridcastProcess.run(["check", "--config", path])
            #expect(check.status == 2)
            #expect(check.stderr.contains("config defines no groups"))
        }
    }

    @Test func csvRowsLoadBackAsTheSameCustomerGroups() async throws {
        try await withEmulator { config, _ in
            let result = try await GridcastProcess.run([
                "wecom", "groups", "--config", config, "--app", "town", "--format", "csv",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "id,name,sink,app,chat_id,owner")
            #expect(lines.contains(#"cg-aaachat02,"星海, ""老年"" 群",wecom-customer-group,town,wrAAAchat02,zhangsan"#))
            #expect(lines.contains("cg-bbbchat01,星海商户群,wecom-customer-group,town,wrBBBchat01,lisi"))

            // The rows as a groups_file of a fresh config: check reads them as the same groups.
            let directory = try TemporaryDirectory("wecom-groups-csv")
            defer { directory.remove() }
            _ = try directory.write("groups.csv", result.stdout)
            let fresh = try directory.write(
                "fresh.yaml",
                """
                ledger:
                  path: ledger.sqlite
                wecom_apps:
                  - id: town
                    corp_id: ww-town-corp
                    secret: \(Self.secret)
                groups_file: groups.csv

                """)
            let loaded = try ConfigLoader(catalog: SinkRegistry.standard).load(path: fresh)
            #expect(loaded.groups.count == 4)
            #expect(loaded.groups.allSatisfy { $0.isCustomerGroup && $0.app == "town" })
            let quoted = try #require(loaded.groups.first { $0.chatID == "wrAAAchat02" })
            #expect(quoted.name == #"星海, "老年" 群"#)
            #expect(quoted.owner == "zhangsan")
            let checked = try await GridcastProcess.run(["check", "--config", fresh])
            #expect(checked.status == 0, "\(checked.stderr)")
            #expect(checked.stdout.contains("4 groups (wecom-customer-group 4)"))
        }
    }

    @Test func ownersNarrowTheList() async throws {
        try await withEmulator { config, _ in
            let result = try await GridcastProcess.run([
                "wecom", "groups", "--config", config, "--app", "town", "--owner", "lisi", "--format", "csv",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                result.stdout
                    == "id,name,sink,app,chat_id,owner\ncg-bbbchat01,星海商户群,wecom-customer-group,town,wrBBBchat01,lisi\n"
            )
        }
    }

    @Test func anUnknownAppExits2AndNamesIt() async throws {
        try await withEmulator { config, server in
            let result = try await GridcastProcess.run(["wecom", "groups", "--config", config, "--app", "minhang"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("'minhang' is not in the config's wecom_apps (known: town)"))
            #expect(result.stdout.isEmpty)
            #expect(try await server.requestCount() == 0)
        }
    }

    @Test func anUntrustedIPSaysToAddItToTheAppsTrustedIPs() async throws {
        try await withEmulator { config, server in
            let transport = CurlTransport()
            let switched = await transport.send(
                HTTPRequest(
                    method: "POST", url: "http://127.0.0.1:\(server.port)/_emulator/wecom/trusted-ip?trusted=0",
                    timeout: .seconds(5)))
            await transport.shutdown()
            #expect(try switched.get().status == 200)
            let result = try await GridcastProcess.run(["wecom", "groups", "--config", config, "--app", "town"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("WeCom app town (127.0.0.1:\(server.port)): code 60020"))
            #expect(result.stderr.contains("add it to the app's trusted IPs"))
            #expect(!result.stderr.contains(Self.secret))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func aWrongSecretIsWeComsRefusalWithoutTheSecret() async throws {
        let wrong = "wrong-secret-never-shown"
        try await withEmulator(secret: wrong) { config, _ in
            let result = try await GridcastProcess.run(["wecom", "groups", "--config", config, "--app", "town"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("code 40001"), "\(result.stderr)")
            #expect(!result.stderr.contains(wrong) && !result.stdout.contains(wrong))
        }
    }

    @Test func theDemosCustomerGroupsAreTheRowsTheCommandPrintsForThem() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let demo = try ConfigLoader(catalog: SinkRegistry.standard).load(
            path: root.appendingPathComponent("config/demo.yaml").path)
        let customerGroups = demo.groups.filter(\.isCustomerGroup)
        #expect(customerGroups.filter { $0.owner == "zhangsan" }.count == 3)
        #expect(customerGroups.filter { $0.owner == "lisi" }.count == 2)
        let app = try #require(demo.wecomApp("demo"))
        let server = try await EmulatorServer.start(groups: customerGroups, wecomApps: [app])
        let directory = try TemporaryDirectory("wecom-groups-demo")
        defer { directory.remove() }
        // A config needs a group: a community starting out has its webhook groups.
        let config = try directory.write(
            "gridcast.yaml",
            """
            ledger:
              path: ledger.sqlite
            wecom_apps:
              - id: demo
                corp_id: \(app.corpID)
                secret: \(app.secret)
                api: http://127.0.0.1:\(server.port)
            groups:
              - id: office
                sink: wecom
                url: http://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=office

            """)
        let result = try await GridcastProcess.run([
            "wecom", "groups", "--config", config, "--app", "demo", "--format", "csv",
        ])
        try await server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        let rows = Set(result.stdout.split(separator: "\n").dropFirst().map(String.init))
        let expected = Set(
            customerGroups.map { group in
                [group.id, group.name, group.sink, group.app ?? "", group.chatID ?? "", group.owner ?? ""]
                    .joined(separator: ",")
            })
        #expect(rows == expected)
    }
}
