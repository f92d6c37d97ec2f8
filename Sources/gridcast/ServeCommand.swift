import ArgumentParser
import Daemon
import Foundation
import GridcastCore
import Ledger
import Logging
import Sinks

/// `gridcast serve`: the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: scheduled warnings, the dispatcher and the HTTP API on one ledger.",
        discussion: """
            SIGTERM/SIGINT stop claiming, let requests in flight finish and be recorded, then exit 0. SIGHUP re-reads
            the config and the notice library; an invalid new config is refused and the running one kept.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "trace, debug, info, notice, warning, error or critical (default: $GRIDCAST_LOG_LEVEL or info).")
    var logLevel: String?

    func run() async throws {
        KeyValueLogHandler.bootstrap(level: logLevel)
        let logger = Logger(label: "gridcast.serve")
        let config = try options.load()
        try refuseOldLedgerLocation(config)
        KeyValueLogHandler.use(config.timeZone)
        let daemon = GridcastDaemon(configPath: options.config, logger: logger) { path in
            try ConfigLoader(catalog: SinkRegistry.standard).load(path: path)
        }
        do {
            try await daemon.run()
        } catch let error as LedgerError where error.isFileChanged {
            printError("error: \(error)")
            throw ExitStatus.ledgerChanged.exitCode
        }
    }
}
