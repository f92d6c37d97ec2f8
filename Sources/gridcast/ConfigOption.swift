import ArgumentParser
import GridcastCore
import Sinks

/// `--config F`, shared by the commands that read a config.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The gridcast YAML config.", valueName: "file"))
    var config: String

    /// Loads and validates the config; on problems prints each as `FILE:LINE:COL: message`, then the count and
    /// `consequence` (what the refusal means for this command, e.g. that nothing was sent), and exits 2.
    func load(consequence: String? = nil) throws -> GridcastConfig {
        do {
            return try ConfigLoader(catalog: SinkRegistry.standard).load(path: config)
        } catch {
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            let count = error.diagnostics.count
            printError(
                "\(config): \(count) \(count == 1 ? "problem" : "problems")" + (consequence.map { "; \($0)" } ?? ""))
            throw ExitStatus.usage.exitCode
        }
    }
}
