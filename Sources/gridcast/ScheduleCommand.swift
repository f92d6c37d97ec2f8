import ArgumentParser
import Fanout
import Foundation
import GridcastCore
import Ledger
import Scheduling
import Sinks

/// `gridcast schedule preview`.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Inspect the config's schedules.",
        subcommands: [Preview.self]
    )

    /// Upcoming firings and which notice each group would get.
    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List upcoming firings and which library notice each group would get."
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "How many days ahead.") var days: Int = 7

        func run() async throws {
            let config = try options.load(credentials: .deferred)
            guard (1...366).contains(days) else {
                printError("--days: expected 1 to 366")
                throw ExitStatus.usage.exitCode
            }
            guard !config.schedules.isEmpty else {
                print("no schedules in \(options.config)")
                return
            }
            let store = try await openLedger(config, .readOnly)
            let planner = FiringPlanner(config: config, sinks: SinkRegistry.standard, store: store)
            let now = Date()
            let end = now.addingTimeInterval(Double(days) * 86_400)
            let formatter = DateFormatter()
            formatter.timeZone = config.timeZone
            formatter.locale = Locale(identifier: "en_US_POSIX")
            // Local time with its offset, as every time a person reads: 2026-12-03T09:30:00+08:00 Thu.
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx EEE"
            for schedule in config.schedules {
                print(
                    "\(schedule.id)  cron \"\(schedule.cron)\"  to \(schedule.selector)  pick \(schedule.pick)"
                        + (schedule.pick == .nextUnsent ? "  when_exhausted \(schedule.whenExhausted.rawValue)" : ""))
            }
            // Every schedule's firings in time order on one rotation, as if each were delivered: each firing is
            // planned by the daemon's own code (FiringPlanner), only not recorded.
            var rotation = try await planner.rotation(groupIDs: config.groups.map(\.id))
            var firings: [(at: Date, schedule: ScheduleSpec)] = []
            for schedule in config.schedules {
                firings += schedule.cron.firings(after: now, through: end, in: config.timeZone).map { ($0, schedule) }
            }
            firings.sort { $0.at < $1.at }
            if firings.isEmpty { print("  (no firing in the next \(days) days)") }
            for (fireAt, schedule) in firings.prefix(Self.shown) {
                let outcome = try await planner.outcome(for: schedule, at: fireAt, now: fireAt, rotation: rotation)
                print("  \(formatter.string(from: fireAt))  \(schedule.id)")
                for plan in outcome.plans {
                    var line =
                        "    \(plan.notice.id) 「\(plan.notice.title)」 → \(Self.count(plan.targets.count)): "
                        + Self.list(plan.targets.map(\.groupID))
                    if let due = plan.targets.first?.notBefore, due > fireAt {
                        line += " (quiet hours: sent at \(formatter.string(from: due)))"
                    }
                    print(line)
                    rotation.record(plan)
                }
                for refusal in outcome.refused { print("    left out: \(refusal.notice): \(refusal.why)") }
                if !outcome.exhausted.isEmpty {
                    print(
                        "    nothing new for \(Self.count(outcome.exhausted.count)) (library exhausted): "
                            + Self.list(outcome.exhausted))
                }
                if outcome.plans.isEmpty && outcome.exhausted.isEmpty {
                    print(
                        "    nothing: \(schedule.pick.isSummary ? "the admin summary, written at the firing" : outcome.note)"
                    )
                }
            }
            if firings.count > Self.shown { print("  … \(firings.count - Self.shown) more firings") }
        }

        /// The most firings listed.
        static let shown = 200

        static func count(_ groups: Int) -> String { "\(groups) \(groups == 1 ? "group" : "groups")" }

        static func list(_ ids: [String]) -> String {
            ids.count <= 6
                ? ids.joined(separator: ", ") : ids.prefix(5).joined(separator: ", ") + ", … (\(ids.count - 5) more)"
        }
    }
}
