import Foundation
import Ledger
import Logging
import ServiceLifecycle

/// Keeps this instance's beat in a shared ledger (``InstanceLedger``), so that the other instances end its claims
/// at once if it dies or freezes, and records its clean stop. A ledger on one machine takes no beats: the service
/// just waits for the stop.
struct InstanceService: Service {
    let store: any LedgerStore
    let identity: InstanceIdentity
    let health: LedgerHealth
    let logger: Logger

    func run() async throws {
        guard let interval = store.heartbeatInterval else {
            try? await gracefulShutdown()
            return
        }
        var failing = false
        while !Task.isStopping {
            do {
                try await store.heartbeat(identity)
                await health.answered()
                if failing { logger.notice("ledger reachable again: instance beats resumed") }
                failing = false
            } catch {
                await health.failed("the ledger is unreachable: \(error)")
                if !failing {
                    logger.error(
                        "cannot beat in the shared ledger: other instances end this one's claims if it lasts",
                        metadata: ["error": "\(error)"])
                }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // Stopped after the dispatcher (services stop in reverse order): nothing of this instance is claimed now.
        do {
            try await store.stopped(identity)
        } catch {
            logger.warning("cannot record this instance's stop", metadata: ["error": "\(error)"])
        }
    }
}
