import Foundation
import GridcastCore
import Ledger
import Logging
import Reports
import ServiceLifecycle

/// Tells systemd the daemon is up (READY=1), keeps its STATUS line to today's counts, pings the watchdog at half
/// its interval, and says STOPPING=1 on shutdown.
///
/// The watchdog is pinged only while the daemon does its job: the dispatcher's loop has turned within a lease (no
/// turn legitimately waits longer: a request ends within its timeout, a claim within its lease) and the ledger
/// takes a write. Otherwise the ping is withheld and STATUS says why, so that systemd restarts a daemon that is
/// up but stuck.
struct StatusService: Service {
    let live: LiveConfig
    let store: any LedgerStore
    let notifier: SystemdNotifier
    let heartbeat: Heartbeat
    let health: LedgerHealth
    let logger: Logger

    func run() async throws {
        notifier.ready(status: try? await statusLine())
        let interval = notifier.watchdogInterval ?? .seconds(15)
        let tick = min(interval, .seconds(15))
        var lastStatus = ContinuousClock.now
        var probe: Task<Bool, Never>?
        var writableSince = ContinuousClock.now
        var withheld = false
        while !Task.isStopping {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            if Task.isStopping { break }
            // The ledger probe runs in its own task: a ledger that hangs must not hang this loop, which has to say
            // what is wrong. A probe still running from an earlier tick is waited for, not repeated.
            let running = probe ?? Task { [store] in (try? await store.checkWritable()) != nil }
            let writable = await value(of: running, within: tick)
            probe = writable == nil ? running : nil
            if writable == true {
                writableSince = ContinuousClock.now
                await health.answered()
            } else {
                await health.failed(
                    "the ledger takes no write (\((ContinuousClock.now - writableSince).components.seconds) s)")
            }
            let problem = await self.problem(
                ledgerWritable: writable == true, unwritableFor: ContinuousClock.now - writableSince)
            if let problem {
                notifier.status("watchdog withheld: \(problem)")
                if !withheld {
                    logger.error("watchdog pings withheld", metadata: ["reason": "\(problem)"])
                    withheld = true
                }
                continue
            }
            if withheld {
                logger.notice("watchdog pings resumed")
                withheld = false
                lastStatus = ContinuousClock.now - .seconds(15)
            }
            notifier.watchdog()
            if ContinuousClock.now - lastStatus >= .seconds(15), let line = try? await statusLine() {
                notifier.status(line)
                lastStatus = ContinuousClock.now
            }
        }
        probe?.cancel()
        notifier.stopping()
    }

    /// Why the daemon is not doing its job, or nil when it is.
    func problem(ledgerWritable: Bool, unwritableFor: Duration) async -> String? {
        if !ledgerWritable {
            return "the ledger has taken no write for \(unwritableFor.components.seconds) s"
        }
        let config = await live.current
        // No turn of the dispatcher's loop waits longer than a claim's lease: its requests, each part's timeout,
        // and the margin for the commit that records them.
        let lease = config.dispatch.timeout * config.dispatch.maxParts + config.dispatch.leaseMargin
        let age = heartbeat.age
        if age > lease {
            return "the dispatcher has not turned for \(age.components.seconds) s"
        }
        return nil
    }

    /// `today: 1 notices to 18 groups; 18 sent, 0 dead, 0 in doubt, 0 pending`, and `, 3 awaiting confirmation`
    /// while customer groups wait for their member.
    /// Counted by the ledger for the day alone (`dayTally`): a city's daemon would otherwise count each of its
    /// 100,000 groups every 15 seconds.
    func statusLine() async throws -> String {
        let config = await live.current
        let day = LocalDay(date: Date(), timeZone: config.timeZone)
        let counts = try await store.dayTally(days: [day.start..<day.end])
        return counts.first.map(Self.statusLine) ?? ""
    }

    /// The status line of today's report.
    static func statusLine(_ report: PeriodReport) -> String {
        statusLine(
            notices: report.notices, groups: report.groups, sent: report.sent, dead: report.dead,
            inDoubt: report.inDoubt, pending: report.pending + report.retry, awaiting: report.awaitingConfirmation)
    }

    /// The status line of a day's counts, as of its report.
    static func statusLine(_ day: DeliveryTally.Day) -> String {
        let states = day.states
        return statusLine(
            notices: day.sentNotices, groups: day.sentGroups, sent: states[.sent], dead: states[.dead],
            inDoubt: states[.inDoubt], pending: states.queued,
            awaiting: states[.awaitingConfirmation])
    }

    private static func statusLine(
        notices: Int, groups: Int, sent: Int, dead: Int, inDoubt: Int, pending: Int, awaiting: Int
    ) -> String {
        var line =
            "today: \(notices) notices to \(groups) groups; \(sent) sent, \(dead) dead, \(inDoubt) in doubt, "
            + "\(pending) pending"
        if awaiting > 0 { line += ", \(awaiting) awaiting confirmation" }
        return line
    }
}

/// `task`'s value if it finishes within `limit`, else nil (the task keeps running).
func value<T: Sendable>(of task: Task<T, Never>, within limit: Duration) async -> T? {
    let (results, deliver) = AsyncStream.makeStream(of: T?.self, bufferingPolicy: .bufferingNewest(2))
    let waiter = Task { deliver.yield(await task.value) }
    let timer = Task {
        try? await Task.sleep(for: limit)
        deliver.yield(nil)
    }
    var iterator = results.makeAsyncIterator()
    let first = await iterator.next() ?? nil
    timer.cancel()
    waiter.cancel()
    deliver.finish()
    return first
}
