import Fanout
import Foundation
import GridcastCore
import Ledger
import Scheduling
import Sinks

/// `gridcast send --dry-run`: what a send would do — the notice id, the groups, the parts each needs and whether
/// quiet hours apply — with nothing sent and no ledger opened or created.
enum SendDryRun {
    /// The lines printed for `notice` to `selector` at `now`; refusals are thrown as the send would refuse them.
    static func lines(
        config: GridcastConfig, notice: Notice, selector: Selector, now: Date
    ) throws(Planner.Failure) -> [String] {
        let plan = try Planner(config: config, sinks: SinkRegistry.standard).plan(
            notice, to: selector, origin: "cli", now: now)
        var lines = [
            "dry run: nothing is sent and no ledger is written",
            "notice \(notice.id)\(notice.title.isEmpty ? "" : " 「\(notice.title)」")\(notice.urgent ? " (urgent)" : "")"
                + " → \(plan.targets.count) \(plan.targets.count == 1 ? "group" : "groups")",
        ]
        if let poster = notice.poster {
            lines.append(
                "poster \(poster.format.rawValue), \(poster.bytes.count) bytes, sha256 \(poster.sha256.prefix(12))…"
                    + (poster.url.map { ", at \($0)" } ?? ""))
        }
        if let link = notice.link {
            lines.append(
                "link card 「\(link.title)」 → \(link.url)" + (link.description.isEmpty ? "" : " (\(link.description))")
                    + (link.pictureURL.map { ", picture \($0)" } ?? ""))
        }
        let width = plan.targets.map(\.groupID.count).max() ?? 0
        for target in plan.targets {
            let id = target.groupID.padding(toLength: width, withPad: " ", startingAt: 0)
            let parts = "\(target.parts) \(target.parts == 1 ? "part" : "parts")"
            lines.append(
                "  \(id)  \(target.sink)  \(parts)  \(target.groupName)" + (target.note.map { "  (\($0))" } ?? ""))
        }
        let total = plan.targets.reduce(0) { $0 + $1.parts }
        lines.append("\(total) \(total == 1 ? "message" : "messages") in all")
        if let quiet = config.quietHours {
            let release = quiet.release(now, in: config.timeZone)
            if release == now {
                lines.append("quiet hours \(quiet): not now")
            } else if notice.urgent {
                lines.append("quiet hours \(quiet): now, but an urgent notice goes at once")
            } else {
                let time = LocalTimestamp.string(release, in: config.timeZone)
                lines.append(
                    "quiet hours \(quiet): now; send posts at once all the same (the daemon and the API would hold it "
                        + "until \(time))")
            }
        }
        return lines
    }
}

/// Timestamps a person reads: local time in the config's zone with its offset, `2026-12-03T09:30:00+08:00`.
enum LocalTimestamp {
    /// `date` in `timeZone`, with the offset.
    static func string(_ date: Date, in timeZone: TimeZone) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: timeZone))
    }
}
