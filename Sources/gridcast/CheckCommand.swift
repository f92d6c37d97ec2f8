import ArgumentParser
import Foundation
import GridcastCore
import Ledger

/// `gridcast check`: validates a config and summarizes it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config: print a one-line summary, or every problem as FILE:LINE:COL: message (exit 2).",
        discussion: """
            Every problem is reported in one run; warnings (FILE:LINE:COL: warning: …) don't change the exit code. \
            The full check needs every ${VAR} the config uses, as serve and send do: run it where the daemon runs \
            (the unit's ExecReload runs it before each reload). --ledger-only checks the config as report and the \
            ledger commands read it, without the webhook secrets or the API token, and says whether the ledger is \
            there; it opens nothing for writing. --connect also connects to a PostgreSQL ledger (ledger.url) and \
            reports its schema version, or why it can't: the login, the certificate, the network.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(help: "Check only what report and the ledger commands need: no secrets, no API token.")
    var ledgerOnly = false
    @Flag(help: "Also connect to the PostgreSQL ledger (ledger.url) and report its schema version.")
    var connect = false

    func run() async throws {
        let loaded = try loadConfig(options.config, credentials: ledgerOnly ? .deferred : .required)
        for warning in loaded.warnings { printError(Self.warning(warning)) }
        let ledger = loaded.config.ledger
        if connect { try await Self.connect(ledger) }
        guard ledgerOnly else {
            print(Self.summary(of: loaded.config))
            return
        }
        var line = Self.summary(of: loaded.config).replacingOccurrences(of: "ok: ", with: "ok (ledger only): ")
        // A PostgreSQL ledger is asked only with --connect: the check never waits on a network otherwise.
        if !connect, ledger.postgres == nil, await !LedgerStores.exists(ledger) {
            line += " (not created yet: serve or send creates it)"
        }
        let names = Set(loaded.deferred.flatMap(\.variables)).sorted()
        if !names.isEmpty {
            line += "; not checked without their variables (serve and send need them): \(names.joined(separator: ", "))"
        }
        print(line)
    }

    /// Connects to a PostgreSQL ledger and prints `ledger: connected to URL, schema pg2` (or that it has none yet);
    /// exits 2 with the reason when it can't. Nothing to do for a SQLite ledger.
    static func connect(_ ledger: LedgerSettings) async throws {
        guard let postgres = ledger.postgres else {
            print("ledger: \(ledger.path) is a SQLite file: nothing to connect to")
            return
        }
        do {
            let version = try await PostgresLedgerStore.schemaVersion(at: postgres)
            print(
                "ledger: connected to \(postgres.redacted), "
                    + (version.map { "schema \($0)" } ?? "no ledger yet (serve or send creates it)"))
        } catch {
            printError("error: ledger: \(error)")
            throw ExitStatus.usage.exitCode
        }
    }

    /// `FILE:LINE:COL: warning: message`.
    static func warning(_ diagnostic: Diagnostic) -> String {
        diagnostic.location.map { "\($0): warning: \(diagnostic.message)" } ?? "warning: \(diagnostic.message)"
    }

    /// `ok: 18 groups (wecom 12, generic 6); tags: elderly 5, lingshui 9; ledger var/gridcast.sqlite; timezone Asia/Shanghai`
    static func summary(of config: GridcastConfig) -> String {
        func counts(_ values: [String]) -> String {
            Dictionary(grouping: values, by: { $0 }).map { ($0.key, $0.value.count) }
                .sorted { $0.0 < $1.0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        }
        let sinks = counts(config.groups.map(\.sink))
        let tags = counts(config.groups.flatMap(\.tags))
        var line =
            "ok: \(config.groups.count) \(config.groups.count == 1 ? "group" : "groups") (\(sinks)); tags: \(tags.isEmpty ? "none" : tags); "
            + "ledger \(config.ledger.postgres?.redacted ?? config.ledger.path); timezone \(config.timeZone.identifier)"
        if !config.library.entries.isEmpty { line += "; \(config.library.entries.count) library notices" }
        if !config.schedules.isEmpty { line += "; schedules: \(config.schedules.map(\.id).joined(separator: ", "))" }
        if let api = config.api { line += "; api \(api.host):\(api.port)" }
        if !config.wecomApps.isEmpty {
            line += "; wecom apps: " + config.wecomApps.map { wecomApp($0, in: config) }.joined(separator: ", ")
        }
        let feishuApps = feishuApps(of: config.groups)
        if !feishuApps.isEmpty { line += "; feishu apps: " + feishuApps.joined(separator: ", ") }
        return line
    }

    /// `minhang (qyapi.weixin.qq.com, quota days-of-month, confirm by 20:00, 4 groups)`: never the app's secret.
    static func wecomApp(_ app: WeComApp, in config: GridcastConfig) -> String {
        let groups = config.groups.count { $0.isCustomerGroup && $0.app == app.id }
        return "\(app.id) (\(host(of: app.api)), quota \(app.quota), confirm \(app.confirmDeadline), "
            + "\(groups) \(groups == 1 ? "group" : "groups"))"
    }

    /// Each Feishu app by its app id, with the API it calls and how many groups use it; never the app secret.
    static func feishuApps(of groups: [Group]) -> [String] {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for group in groups {
            guard let app = group.feishuApp else { continue }
            let shown = "\(app.appID) (\(app.api.map(host) ?? "the webhook's host")"
            if counts[shown] == nil { order.append(shown) }
            counts[shown, default: 0] += 1
        }
        return order.map { "\($0), \(counts[$0]!) \(counts[$0] == 1 ? "group" : "groups"))" }
    }

    /// The host (and port) of an API address, or the address when it has none.
    static func host(of address: String) -> String {
        guard let components = URLComponents(string: address), let host = components.host else { return address }
        return components.port.map { "\(host):\($0)" } ?? host
    }
}
