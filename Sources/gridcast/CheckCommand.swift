import ArgumentParser
import Foundation
import GridcastCore

/// `gridcast check`: validates a config and summarizes it.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config: print a one-line summary, or every problem as FILE:LINE:COL: message (exit 2)."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let config = try options.load()
        // Warnings don't stop the config: `FILE:LINE:COL: warning: …` on stderr, exit 0.
        for warning in config.warnings {
            printError(Diagnostic(warning.location, "warning: \(warning.message)").description)
        }
        print(Self.summary(of: config))
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
            + "ledger \(config.ledger.path); timezone \(config.timeZone.identifier)"
        if !config.library.entries.isEmpty { line += "; \(config.library.entries.count) library notices" }
        if !config.schedules.isEmpty { line += "; schedules: \(config.schedules.map(\.id).joined(separator: ", "))" }
        if let api = config.api { line += "; api \(api.host):\(api.port)" }
        return line
    }
}
