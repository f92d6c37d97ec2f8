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
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            let config = await live.current
            let generation = live.generation
            let dispatcher = Dispatcher(
                store: store, transport: transport, sinks: .standard, config: config, logger: logger
            )
            let progress = try await dispatcher.drain(
                noticeID: nil,
                keepRunning: true,
                stopRequested: { Task.isShuttingDownGracefully || live.generation != generation }
            )
            logger.debug(
                "dispatch cycle ended",
                metadata: ["sent": "\(progress.sent)", "dead": "\(progress.dead)", "in_doubt": "\(progress.inDoubt)"]
            )
        }
        await transport.shutdown()
        logger.info("dispatcher stopped: nothing claimed is left behind")
    }
}
