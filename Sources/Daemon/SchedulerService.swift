import Fanout
import Foundation
import GridcastCore
import Ledger
import Logging
import Metrics
import Reports
import ServiceLifecycle
import Sinks

/// Fires the config's schedules: catches up at start, then sleeps until the next firing (or a reload).
struct SchedulerService: Service {
    let live: LiveConfig
    let store: any LedgerStore
    let logger: Logger

    func run() async throws {
        var warnedExhausted: Set<String> = []
        while !Task.isStopping {
            let snapshot = await live.snapshot
            let (config, generation) = (snapshot.config, snapshot.generation)
            let scheduler = Scheduler(
                config: config, sinks: .standard, store: store,
                summaries: { [store] in try await AdminSummary.notice($0, containing: $1, store: store) },
                logger: logger)
            do {
                for report in try await scheduler.fireDue(now: Date()) {
                    Counter(
                        label: "gridcast_scheduler_firings_total",
                        dimensions: [
                            ("schedule", report.scheduleID), ("outcome", report.outcome.rawValue),
                        ]
                    ).increment()
                    // Warn once a day per schedule when groups have had the whole library.
                    let day = LocalDay(date: report.fireAt, timeZone: config.timeZone).description
                    if !report.exhausted.isEmpty && warnedExhausted.insert("\(report.scheduleID)@\(day)").inserted {
                        logger.warning(
                            "groups have had every library notice: add notices to the library",
                            metadata: ["schedule": "\(report.scheduleID)", "groups": "\(report.exhausted.count)"]
                        )
                    }
                }
            } catch {
                logger.error("scheduler could not fire", metadata: ["error": "\(error)"])
            }
            // Sleep until the next firing, waking at least every few seconds to notice a reload or a stop.
            let next = scheduler.nextFiring(after: Date()) ?? Date().addingTimeInterval(3600)
            await sleepUntil(next, checkingEvery: .seconds(2)) { live.generation == generation }
        }
    }
}
