import Foundation

/// A five-field cron expression — minute, hour, day of month, month, day of week — evaluated in a time zone.
///
/// Supports `*`, values, ranges (`1-5`), lists (`1,3,5`), steps (`*/15`, `10-50/10`), month and weekday names
/// (`jan`–`dec`, `sun`–`sat`, case-insensitive), and 0 or 7 for Sunday. As in Vixie cron, when both day fields are
/// restricted a day matches if *either* matches ("the 1st and every Monday"); when one is `*`, only the other counts.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The expression as written.
    public let expression: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    /// Why an expression was refused, naming the field.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong, naming the field.
        public var message: String
        public var description: String { message }

        /// Creates a failure.
        public init(message: String) { self.message = message }
    }

    private struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String]
        let nameBase: Int
    }

    private static let fields = [
        Field(name: "minute", range: 0...59, names: [], nameBase: 0),
        Field(name: "hour", range: 0...23, names: [], nameBase: 0),
        Field(name: "day of month", range: 1...31, names: [], nameBase: 1),
        Field(
            name: "month", range: 1...12,
            names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], nameBase: 1
        ),
        Field(
            name: "day of week", range: 0...7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], nameBase: 0),
    ]

    /// Parses an expression such as `30 9 * * *` or `0 8 1 * mon-fri`.
    public init(parsing expression: String) throws(Failure) {
        let parts = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw Failure(
                message: "cron needs 5 fields (minute hour day-of-month month day-of-week), got \(parts.count)")
        }
        var sets: [Set<Int>] = []
        for (field, text) in zip(Self.fields, parts) {
            sets.append(try Self.parse(text, field))
        }
        self.expression = expression
        minutes = sets[0]
        hours = sets[1]
        daysOfMonth = sets[2]
        months = sets[3]
        // 7 is Sunday too.
        daysOfWeek = Set(sets[4].map { $0 == 7 ? 0 : $0 })
        dayOfMonthRestricted = parts[2] != "*" && !parts[2].hasPrefix("*/")
        dayOfWeekRestricted = parts[4] != "*" && !parts[4].hasPrefix("*/")
    }

    public var description: String { expression }

    /// Why the schedule can never fire, or nil when it can: `0 9 30 2 *` parses (as in Vixie cron) but no February
    /// has a 30th. When the day of week is restricted too, a day matches by either field, so it still fires.
    public var neverFires: String? {
        guard !dayOfWeekRestricted else { return nil }
        let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard let latest = months.map({ longest[$0 - 1] }).max(), let earliest = daysOfMonth.min(), earliest > latest
        else { return nil }
        return "cron never fires: no month of the schedule has day \(earliest)"
    }

    private static func parse(_ text: String, _ field: Field) throws(Failure) -> Set<Int> {
        var values = Set<Int>()
        for item in text.lowercased().split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2, !stepParts[0].isEmpty else {
                throw Failure(message: "cron \(field.name): cannot read '\(item)'")
            }
            var step = 1
            if stepParts.count == 2 {
                guard stepParts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let parsed = Int(stepParts[1]), parsed > 0
                else {
                    throw Failure(message: "cron \(field.name): step in '\(item)' must be a positive number")
                }
                step = parsed
            }
            let base = stepParts[0]
            var low = field.range.lowerBound
            var high = field.range.upperBound
            if field.name == "day of week" && base == "*" { high = 6 }
            if base != "*" {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw Failure(message: "cron \(field.name): cannot read '\(item)'") }
                low = try value(String(bounds[0]), field)
                high = bounds.count == 2 ? try value(String(bounds[1]), field) : (stepParts.count == 2 ? high : low)
                guard low <= high else {
                    throw Failure(message: "cron \(field.name): range '\(base)' runs backwards")
                }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    private static func value(_ text: String, _ field: Field) throws(Failure) -> Int {
        if let index = field.names.firstIndex(of: text) { return index + field.nameBase }
        // Digits only: Int("+5") is 5, but no cron reads "+5".
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(text) else {
            let hint = field.names.isEmpty ? "" : " (or a name such as \(field.names[0]))"
            throw Failure(message: "cron \(field.name): '\(text)' is not a number\(hint)")
        }
        guard field.range.contains(number) else {
            throw Failure(
                message: "cron \(field.name): \(number) is outside \(field.range.lowerBound)-\(field.range.upperBound)")
        }
        return number
    }

    /// Whether the schedule fires at this local minute.
    public func matches(_ date: Date, in timeZone: TimeZone) -> Bool {
        let parts = Self.calendar(timeZone).dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        return minutes.contains(parts.minute!) && hours.contains(parts.hour!) && months.contains(parts.month!)
            && dayMatches(day: parts.day!, weekday: parts.weekday! - 1)
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let byMonth = daysOfMonth.contains(day)
        let byWeek = daysOfWeek.contains(weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return byMonth || byWeek }
        return byMonth && byWeek
    }

    /// The first firing strictly after `date`, or nil when there is none within eight years (e.g. `0 0 31 2 *`).
    ///
    /// Firings are wall-clock times in `timeZone`; across a daylight-saving change (docs/scheduling.md) a time the
    /// clocks pass twice fires once, at its first occurrence, and a time the clocks skip fires at the first valid
    /// time after the gap (02:30 on a spring-forward day at 03:00), once however many of its times fell in it.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let calendar = Self.calendar(timeZone)
        guard var candidate = calendar.dateInterval(of: .minute, for: date)?.end else { return nil }
        let limit = date.addingTimeInterval(8 * 366 * 86_400)
        while candidate < limit {
            if firesInGap(before: candidate, in: timeZone) { return candidate }
            let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: candidate)
            if !months.contains(parts.month!) {
                candidate = calendar.dateInterval(of: .month, for: candidate)!.end
            } else if !dayMatches(day: parts.day!, weekday: parts.weekday! - 1) {
                candidate = calendar.dateInterval(of: .day, for: candidate)!.end
            } else if !hours.contains(parts.hour!) {
                candidate = calendar.dateInterval(of: .hour, for: candidate)!.end
            } else if !minutes.contains(parts.minute!) || Self.isRepeated(candidate, in: timeZone) {
                candidate = candidate.addingTimeInterval(60)
            } else {
                return candidate
            }
        }
        return nil
    }

    /// Whether `instant` is the first minute after clocks jumped forward, and some skipped wall-clock minute would
    /// have fired. Transitions fall on whole minutes, and the search above visits the minute a jump lands on: it
    /// only moves to the ends of months, days and hours, or by one minute.
    private func firesInGap(before instant: Date, in timeZone: TimeZone) -> Bool {
        let before = instant.addingTimeInterval(-60)
        let jump = timeZone.secondsFromGMT(for: instant) - timeZone.secondsFromGMT(for: before)
        guard jump > 0 else { return false }
        // The skipped wall-clock minutes, read as components in UTC: a local time as if it were a UTC one.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let firstSkipped = before.addingTimeInterval(Double(timeZone.secondsFromGMT(for: before)) + 60)
        for minute in 0..<(jump / 60) {
            let wall = firstSkipped.addingTimeInterval(Double(minute * 60))
            let parts = utc.dateComponents([.minute, .hour, .day, .month, .weekday], from: wall)
            if minutes.contains(parts.minute!) && hours.contains(parts.hour!) && months.contains(parts.month!)
                && dayMatches(day: parts.day!, weekday: parts.weekday! - 1)
            {
                return true
            }
        }
        return false
    }

    /// Whether the wall-clock time of `instant` already happened earlier, before clocks went back: its second
    /// occurrence. Daylight-saving shifts are at most a few hours, so the offset three hours earlier tells.
    private static func isRepeated(_ instant: Date, in timeZone: TimeZone) -> Bool {
        let offset = timeZone.secondsFromGMT(for: instant)
        let earlierOffset = timeZone.secondsFromGMT(for: instant.addingTimeInterval(-3 * 3600))
        guard earlierOffset > offset else { return false }
        let first = instant.addingTimeInterval(-Double(earlierOffset - offset))
        return timeZone.secondsFromGMT(for: first) == earlierOffset
    }

    /// Every firing in `(start, end]`, in order.
    public func firings(after start: Date, through end: Date, in timeZone: TimeZone) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while let next = next(after: cursor, in: timeZone), next <= end {
            result.append(next)
            cursor = next
        }
        return result
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}
