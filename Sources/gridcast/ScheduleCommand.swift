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
            let store = try openLedger(config, .readOnly)
            let planner = FiringPlanner(config: config, sinks: SinkRegistry.standard, store: store)
            let now = Date()
            let end = now.addingTimeInterval(Double(days) * 86_400)
            let formatter = DateFormatter()
            formatter.timeZone = config.timeZone
            formatter.locale = Locale(identifier: "en_US_POSIX")
            // Local time with its offset, as every time a person reads: 2026-12-03T09:30:00+08:00 Thu.
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx EEE"
            for schedule in config.schedules {
                print("\(schedule.id)  cron \"\(schedule.cron)\"  to \(schedule.selector)  pick \(schedule.pick)")
                let groups = try schedule.selector.resolve(in: config.groups)
                // The rotation as it would run if every firing were delivered.
                var had = try await planner.had(groupIDs: groups.map(\.id))
                let firings = schedule.cron.firings(after: now, through: end, in: config.timeZone)
                if firings.isEmpty { print("  (no firing in the next \(days) days)") }
                for fireAt in firings.prefix(200) {
                    var when = formatter.string(from: fireAt)
                    if let quiet = config.quietHours, quiet.release(fireAt, in: config.timeZone) != fireAt {
                        when +=
                            " (quiet hours: sent at \(formatter.string(from: quiet.release(fireAt, in: config.timeZone))))"
                    }
                    let (choices, exhausted, note) = try planner.choose(schedule, at: fireAt, had: had)
                    print("  \(when)")
                    for (entry, members) in choices {
                        print(
                            "    \(entry.notice.id) 「\(entry.notice.title)」 → \(members.count) groups: \(Self.list(members.map(\.id)))"
                        )
                        for group in members { had[group.id, default: []].insert(entry.notice.id) }
                    }
                    if !exhausted.isEmpty {
                        print(
                            "    nothing new for \(exhausted.count) groups (library exhausted): \(Self.list(exhausted))"
                        )
                    }
                    if choices.isEmpty && exhausted.isEmpty { print("    nothing: \(note)") }
                }
                if firings.count > 200 { print("  … \(firings.count - 200) more firings") }
            }
        }

        static func list(_ ids: [String]) -> String {
            ids.count <= 6
                ? ids.joined(separator: ", ") : ids.prefix(5).joined(separator: ", ") + ", … (\(ids.count - 5) more)"
        }
    }
}
