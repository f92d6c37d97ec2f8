import Foundation
import GridcastCore
import Ledger
import Logging
import Reports
import ServiceLifecycle

/// Tells systemd the daemon is up (READY=1), keeps its STATUS line to today's counts, pings the watchdog at half
/// its interval, and says STOPPING=1 on shutdown.
struct StatusService: Service {
    let live: LiveConfig
    let store: any LedgerStore
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        notifier.ready(status: try? await statusLine())
        let interval = notifier.watchdogInterval ?? .seconds(15)
        var lastStatus = ContinuousClock.now
        while !Task.isStopping {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(interval, .seconds(15))) }
            notifier.watchdog()
            if ContinuousClock.now - lastStatus >= .seconds(15), let line = try? await statusLine() {
                notifier.status(line)
                lastStatus = ContinuousClock.now
            }
        }
        notifier.stopping()
    }

    /// `today: 1 notices to 18 groups; 18 sent, 0 dead, 0 in doubt, 0 pending`.
    func statusLine() async throws -> String {
        let config = await live.current
        let report = try await PeriodReport.make(day: LocalDay(date: Date(), timeZone: config.timeZone), store: store)
        return "today: \(report.notices) notices to \(report.groups) groups; \(report.sent) sent, \(report.dead) dead, "
            + "\(report.inDoubt) in doubt, \(report.pending + report.retry) pending"
    }
}
