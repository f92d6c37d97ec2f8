import GridcastCore
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP: re-read the config and the notice library. A config with problems is refused: each problem is logged
/// and the running config stays.
struct ReloadService: Service {
    let live: LiveConfig
    let notifier: SystemdNotifier
    let logger: Logger
    let path: String
    let load: @Sendable (String) throws -> GridcastConfig

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            notifier.reloading()
            do {
                let config = try load(path)
                await live.replace(with: config)
                logger.notice(
                    "config reloaded",
                    metadata: [
                        "groups": "\(config.groups.count)", "schedules": "\(config.schedules.count)",
                        "notices": "\(config.library.entries.count)",
                    ]
                )
            } catch let error as ConfigError {
                for problem in error.diagnostics {
                    logger.error("reload refused: \(problem.description)")
                }
                logger.error(
                    "reload refused: keeping the running config", metadata: ["problems": "\(error.diagnostics.count)"])
            } catch {
                logger.error("reload refused: keeping the running config", metadata: ["error": "\(error)"])
            }
            notifier.ready(status: nil)
        }
    }
}
