import Foundation
import GridcastCore
import Ledger
import Logging
import Scheduling
import ServiceLifecycle
import UnixSignals

/// SIGHUP: re-read the config and the notice library. A config with problems is refused: each problem is logged
/// and the running config stays. A reload that changes the quiet hours (or the timezone) re-times the deliveries
/// they hold, so a shortened or removed window lets them go now (docs/ledger.md, "Quiet hours").
struct ReloadService: Service {
    let live: LiveConfig
    let store: any PlanningLedger
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
                let old = await live.current
                await live.replace(with: config)
                ConfigWarnings.log(config, to: logger)
                logger.notice(
                    "config reloaded",
                    metadata: [
                        "groups": "\(config.groups.count)", "schedules": "\(config.schedules.count)",
                        "notices": "\(config.library.entries.count)",
                    ]
                )
                if old.quietHours != config.quietHours || old.timeZone != config.timeZone {
                    await retimeHeld(under: config)
                }
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

    /// Moves the held deliveries to the end of the new quiet hours, or to now when there are none.
    private func retimeHeld(under config: GridcastConfig) async {
        let quiet = config.quietHours
        let timeZone = config.timeZone
        do {
            let moved = try await store.retimeHeld(now: Date(), by: "reload") { due in
                quiet?.release(due, in: timeZone) ?? due
            }
            if moved > 0 {
                logger.notice(
                    "held deliveries re-timed for the new quiet hours",
                    metadata: ["deliveries": "\(moved)", "quiet_hours": "\(quiet?.description ?? "none")"])
            }
        } catch {
            // The config is already in force; the held rows keep their old time and go out then.
            logger.error(
                "could not re-time held deliveries; they go out at their old time",
                metadata: ["error": "\(error)"])
        }
    }
}
