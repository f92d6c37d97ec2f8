import Foundation
import GridcastCore
import Ledger
import Logging
import ServiceLifecycle

/// Logs the ledger's checkpoint — the event log's sequence number and head hash — at start, after every local
/// midnight, and (from ``GridcastDaemon``) once more at shutdown, after the dispatcher has recorded its last outcome.
///
/// Kept outside the ledger (the journal, a syslog host, a printout), a checkpoint lets
/// `gridcast ledger verify --checkpoint SEQ:HASH` prove that the ledger still extends it: a truncated ledger, an
/// older copy put back, or a rewritten one fails.
struct CheckpointService: Service {
    let live: LiveConfig
    let store: any LedgerStore
    let logger: Logger

    func run() async throws {
        await Self.log(store: store, logger: logger, reason: "start")
        while !Task.isStopping {
            let snapshot = await live.snapshot
            let (timeZone, generation) = (snapshot.config.timeZone, snapshot.generation)
            let midnight = LocalDay(date: Date(), timeZone: timeZone).end
            // A reload may change the time zone, and so the midnight to wait for.
            await sleepUntil(midnight, checkingEvery: .seconds(60)) { live.generation == generation }
            if Date() >= midnight { await Self.log(store: store, logger: logger, reason: "daily") }
        }
    }

    /// Logs `ledger checkpoint` with `checkpoint=SEQ:HASH`, ready to paste into `verify --checkpoint`.
    static func log(store: any LedgerStore, logger: Logger, reason: String) async {
        do {
            let head = try await store.head()
            logger.notice(
                "ledger checkpoint",
                metadata: ["checkpoint": "\(head)", "events": "\(head.seq)", "reason": "\(reason)"]
            )
        } catch {
            logger.error("cannot read the ledger checkpoint", metadata: ["error": "\(error)"])
        }
    }
}
