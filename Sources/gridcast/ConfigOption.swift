import ArgumentParser
import GridcastCore
import Sinks

/// `--config F`, shared by the commands that read a config.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The gridcast YAML config.", valueName: "file"))
    var config: String

    /// Loads and validates the config; on problems prints each as `FILE:LINE:COL: message` and exits 2.
    func load() throws -> GridcastConfig {
        do {
            return try ConfigLoader(catalog: SinkRegistry.standard).load(path: config)
        } catch {
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            printError("\(config): \(error.diagnostics.count) problem(s); nothing was sent")
            throw ExitStatus.usage.exitCode
        }
    }
}
