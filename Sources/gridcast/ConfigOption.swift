import ArgumentParser
import GridcastCore
import Sinks

/// `--config F`, shared by the commands that read a config.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The gridcast YAML config.", valueName: "file"))
    var config: String

    /// Loads and validates the config; on problems prints each as `FILE:LINE:COL: message`, then the count and
    /// `consequence` (what the refusal means for this command, e.g. that nothing was sent), and exits 2.
    /// `credentials: .deferred` is for commands that neither send nor serve: the webhook secrets and the API token
    /// need not be in the environment then.
    func load(
        consequence: String? = nil, credentials: EnvironmentExpansion.CredentialUse = .required,
        groupsRequired: Bool = true
    ) throws -> GridcastConfig {
        try loadConfig(config, consequence: consequence, credentials: credentials, groupsRequired: groupsRequired)
            .config
    }
}

/// Loads the config at `path` with its warnings, or prints every problem (as ``ConfigOption/load(consequence:credentials:)``
/// does) and exits 2.
func loadConfig(
    _ path: String, consequence: String? = nil, credentials: EnvironmentExpansion.CredentialUse,
    groupsRequired: Bool = true, ledgerOnly: Bool = false
) throws -> ConfigLoader.Loaded {
    do {
        var loader = ConfigLoader(catalog: SinkRegistry.standard, credentials: credentials)
        loader.groupsRequired = groupsRequired
        loader.ledgerOnly = ledgerOnly
        return try loader.loaded(path: path)
    } catch {
        for diagnostic in error.diagnostics { printError(diagnostic.description) }
        let count = error.diagnostics.count
        printError("\(path): \(count) \(count == 1 ? "problem" : "problems")" + (consequence.map { "; \($0)" } ?? ""))
        throw ExitStatus.usage.exitCode
    }
}

/// `--config F` and `--ledger PATH` of the ledger commands and `report`: they read the config without the webhook
/// secrets or the API token (nothing is sent), and `--ledger` names the ledger instead of the config's
/// `ledger.path` (a copy, say) — or, without a config, on its own.
struct LedgerOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The gridcast YAML config (its groups, timezone and ledger.path; no secrets needed).", valueName: "file"))
    var config: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The ledger file, instead of the config's ledger.path. Without --config, times and days are in "
                + "Asia/Shanghai (a config's default timezone) and groups are known by the ledger alone.",
            valueName: "path"))
    var ledger: String?

    func validate() throws {
        if config == nil && ledger == nil { throw ValidationError("give --config, --ledger or both") }
    }

    /// Whether a config was given (its groups and tags are known).
    var hasConfig: Bool { config != nil }

    /// The config (or, with `--ledger` alone, the defaults: no groups), its `ledger.path` replaced by `--ledger`.
    /// `ledgerOnly` reads only its `timezone` and `ledger` (no groups).
    func load(ledgerOnly: Bool = false) throws -> GridcastConfig {
        var loaded = GridcastConfig(file: ledger ?? "")
        if let config { loaded = try loadConfig(config, credentials: .deferred, ledgerOnly: ledgerOnly).config }
        // A path on the command line is the operator's, relative to the working directory.
        if let ledger { loaded.ledger = LedgerSettings(path: ledger) }
        return loaded
    }

    /// What names the config in messages: the config file, else the ledger.
    var source: String { config ?? ledger ?? "" }
}
