import Fanout
import Foundation
import GridcastCore
import Ledger
import Logging
import ServiceLifecycle
import Sinks
import Transport

/// The daemon's dispatcher: drains due deliveries continuously — new plans from the scheduler, the API or a
/// `gridcast send` on the same ledger, and retries at their time — with the same guarantees as `send`.
///
/// On graceful shutdown (SIGTERM/SIGINT) it stops claiming, hands back unstarted claims, lets requests in flight
/// finish and records them, then returns. On reload it does the same and starts over with the new config.
struct DispatchService: Service {
    let live: LiveConfig
    let store: any LedgerStore
    let transport: CurlTransport
    let heartbeat: Heartbeat
    let logger: Logger

    static let firstPause = Duration.seconds(1)
    static let maxPause = Duration.seconds(30)

    func run() async throws {
        var pause = Self.firstPause
        while !Task.isStopping {
            heartbeat.beat()
            let snapshot = await live.snapshot
            let (config, generation) = (snapshot.config, snapshot.generation)
            let dispatcher = Dispatcher(
                store: store, transport: transport, sinks: .standard, config: config, logger: logger
            )
            do {
                let progress = try await dispatcher.drain(
                    noticeID: nil,
                    keepRunning: true,
                    stopRequested: { [heartbeat] in
                        // Asked on every turn of the dispatcher's loop: the watchdog's sign of life.
                        heartbeat.beat()
                        return Task.isShuttingDownGracefully || live.generation != generation
                    }
                )
                pause = Self.firstPause
                logger.debug(
                    "dispatch cycle ended",
                    metadata: [
                        "sent": "\(progress.sent)", "dead": "\(progress.dead)", "in_doubt": "\(progress.inDoubt)",
                    ]
                )
            } catch is CancellationError {
                break
            } catch let error as LedgerError where error.isFileChanged {
                // Writing on would record into a file nobody reads, and the next start would find no ledger and
                // fire the schedules again: stop the daemon (exit 3, which the systemd unit doesn't restart).
                logger.critical("dispatcher stopped: \(error)")
                await transport.shutdown()
                throw error
            } catch {
                // The ledger can't be written (disk full, read-only, I/O error): no claim can be made durable, so
                // nothing is sent. Keep the daemon (and its API, status and checkpoints) up and try again with
                // backoff; outcomes that could not be recorded surface as in_doubt when their leases end.
                logger.error(
                    "dispatcher paused: the ledger cannot be written; nothing is claimed or sent until it can",
                    metadata: ["error": "\(error)", "retry_in": "\(pause)"]
                )
                let wait = pause
                heartbeat.beat()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                pause = min(pause * 2, Self.maxPause)
            }
        }
        await transport.shutdown()
        logger.info("dispatcher stopped: nothing claimed is left behind")
    }
}
