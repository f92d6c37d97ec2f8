import Foundation
import Ledger

/// Times as the audit page writes them for a person: in the config's time zone, with its offset.
enum AuditTime {
    /// `2026-11-28 09:30:01+08:00`.
    static func stamp(_ date: Date, in timeZone: TimeZone) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(dateTimeSeparator: .space, timeZoneSeparator: .colon, timeZone: timeZone))
    }

    /// When an `in_doubt` delivery's message would have appeared in its group, if it did: from the claim of its last
    /// attempt (the request went out after it) to the moment its outcome became unknown (the row's latest change).
    static func doubtWindow(of record: DeliveryRecord) -> ClosedRange<Date> {
        let from = record.lastAttemptAt ?? record.plannedAt
        return min(from, record.updatedAt)...record.updatedAt
    }

    /// The window of ``doubtWindow(of:)`` as HTML: two `<time>` elements, from and to.
    static func doubtWindowHTML(of record: DeliveryRecord, in timeZone: TimeZone) -> String {
        let window = doubtWindow(of: record)
        let from = AuditHTML.escape(stamp(window.lowerBound, in: timeZone))
        let to = AuditHTML.escape(stamp(window.upperBound, in: timeZone))
        return """
            <span class="window"><time class="from" datetime="\(from)">\(from)</time> 至 \
            <time class="to" datetime="\(to)">\(to)</time></span>
            """
    }
}
