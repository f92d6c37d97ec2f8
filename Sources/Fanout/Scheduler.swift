import Foundation
import GridcastCore
import Ledger
import Logging
import Scheduling
import Sinks

/// Runs the config's schedules: each cron firing is recorded in the ledger exactly once (with the plans it made),
/// so a restart never fires it twice; firings missed while the daemon was down are caught up within `catch_up`,
/// only the latest of them, and the rest are recorded as skipped.
public struct Scheduler: Sendable {
    let config: GridcastConfig
    let sinks: SinkRegistry
    let store: any LedgerStore
    let summaries: SummaryWriter?
    let logger: Logger

    /// Creates a scheduler; `summaries` writes the admin summaries that `report_to` schedules post (without it they
    /// are skipped, with a note).
    public init(
        config: GridcastConfig, sinks: SinkRegistry, store: any LedgerStore, summaries: SummaryWriter? = nil,
        logger: Logger
    ) {
        self.config = config
        self.sinks = sinks
        self.store = store
        self.summaries = summaries
        self.logger = logger
    }

    /// What one firing did.
    public struct Report: Sendable, Equatable {
        public var scheduleID: String
        public var fireAt: Date
        public var outcome: Firing.Outcome
        /// Deliveries planned.
        public var deliveries: Int
        /// Groups that have had the whole library.
        public var exhausted: [String]
        public var note: String
    }

    /// The most missed firings recorded one by one as skipped after a long outage; older ones are only counted.
    static let skipRecordLimit = 500

    /// Fires every schedule's due firings up to `now`.
    public func fireDue(now: Date) async throws -> [Report] {
        var reports: [Report] = []
        for schedule in config.schedules {
            let last = try await store.lastFiring(scheduleID: schedule.id)
            // Never fired before: only firings within catch_up count as missed.
            let from = last ?? now.addingTimeInterval(-schedule.catchUp.timeInterval)
            let due = schedule.cron.firings(after: from, through: now, in: config.timeZone)
            guard let latest = due.last else { continue }
            let missed = due.dropLast()
            if missed.count > Self.skipRecordLimit {
                logger.warning(
                    "many missed firings not recorded one by one",
                    metadata: ["schedule": "\(schedule.id)", "count": "\(missed.count - Self.skipRecordLimit)"]
                )
            }
            for fireAt in missed.suffix(Self.skipRecordLimit) {
                reports.append(
                    try await record(schedule, fireAt, .skipped, note: "superseded by a later missed firing", now: now))
            }
            if now.timeIntervalSince(latest) > schedule.catchUp.timeInterval {
                reports.append(
                    try await record(schedule, latest, .skipped, note: "missed by more than catch_up", now: now)
                )
            } else {
                reports.append(try await fire(schedule, at: latest, now: now))
            }
        }
        return reports
    }

    /// The next time any schedule fires after `date`.
    public func nextFiring(after date: Date) -> Date? {
        config.schedules.compactMap { $0.cron.next(after: date, in: config.timeZone) }.min()
    }

    func fire(_ schedule: ScheduleSpec, at fireAt: Date, now: Date) async throws -> Report {
        let outcome = try await FiringPlanner(config: config, sinks: sinks, store: store, summaries: summaries)
            .plans(for: schedule, at: fireAt, now: now)
        guard !outcome.plans.isEmpty else {
            var report = try await record(schedule, fireAt, .skipped, note: outcome.note, now: now)
            report.exhausted = outcome.exhausted
            return report
        }
        for refusal in outcome.refused {
            logger.warning(
                "library notice left out of the firing: it can't be planned; fix the file",
                metadata: ["schedule": "\(schedule.id)", "notice": "\(refusal.notice)", "why": "\(refusal.why)"])
        }
        for revision in outcome.revised {
            logger.warning(
                "library notice edited after it was recorded: sent as a revision, not to groups that had it",
                metadata: ["notice": "\(revision.library)", "recorded_as": "\(revision.recorded)"])
        }
        let firing = Firing(scheduleID: schedule.id, fireAt: fireAt, outcome: .fired, note: "", recordedAt: now)
        guard let results = try await store.recordFiring(firing, plans: outcome.plans) else {
            return Report(
                scheduleID: schedule.id, fireAt: fireAt, outcome: .fired, deliveries: 0, exhausted: [],
                note: "already fired")
        }
        let added = results.map(\.added).reduce(0, +)
        logger.info(
            "schedule fired",
            metadata: [
                "schedule": "\(schedule.id)", "fire_at": "\(fireAt)", "notices": "\(outcome.plans.map(\.notice.id))",
                "deliveries": "\(added)",
            ]
        )
        return Report(
            scheduleID: schedule.id, fireAt: fireAt, outcome: .fired, deliveries: added, exhausted: outcome.exhausted,
            note: ""
        )
    }

    func record(
        _ schedule: ScheduleSpec, _ fireAt: Date, _ outcome: Firing.Outcome, note: String, now: Date
    )
        async throws -> Report
    {
        let firing = Firing(scheduleID: schedule.id, fireAt: fireAt, outcome: outcome, note: note, recordedAt: now)
        _ = try await store.recordFiring(firing, plans: [])
        logger.notice(
            "schedule firing skipped",
            metadata: ["schedule": "\(schedule.id)", "fire_at": "\(fireAt)", "why": "\(note)"])
        return Report(
            scheduleID: schedule.id, fireAt: fireAt, outcome: outcome, deliveries: 0, exhausted: [], note: note)
    }
}

extension Duration {
    /// The duration in seconds, as Foundation's `TimeInterval`.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
