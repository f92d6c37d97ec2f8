import Fanout
import Foundation
import GridcastCore
import Ledger
import Logging
import ServiceLifecycle
import Transport

/// The daemon's customer-group channel: creates mass-message tasks for due customer-group deliveries and follows
/// open tasks — reads results, reminds members, cancels at the deadline, finds tasks whose create answer was lost
/// (docs/customer-groups.md). Each turn is short; WeCom is called only when a task is due.
struct CustomerGroupService: Service {
    let live: LiveConfig
    let store: any LedgerStore
    let transport: CurlTransport
    let logger: Logger

    /// How often the ledger is asked for due batches and tasks.
    static let turn = Duration.seconds(2)

    func run() async throws {
        let sessions = CustomerGroupSessions(transport: transport)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let config = await live.snapshot.config
            if config.groups.contains(where: { $0.isCustomerGroup }) {
                do {
                    try await MassTaskRunner(store: store, config: config, sessions: sessions, logger: logger).runOnce()
                } catch {
                    logger.error(
                        "customer-group tasks: the ledger could not be read or written", metadata: ["error": "\(error)"]
                    )
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.turn) }
        }
    }
}
