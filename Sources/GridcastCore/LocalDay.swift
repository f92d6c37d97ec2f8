import Foundation

/// A calendar day in a time zone, and the instants that bound it.
public struct LocalDay: Sendable, Hashable, CustomStringConvertible {
    /// Year, month and day.
    public var year: Int
    public var month: Int
    public var day: Int
    /// The zone the day is counted in.
    public var timeZone: TimeZone

    /// The day containing `date` in `timeZone`.
    public init(date: Date, timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        self.year = parts.year!
        self.month = parts.month!
        self.day = parts.day!
        self.timeZone = timeZone
    }

    /// Parses `YYYY-MM-DD`; nil when it is not a real date.
    public init?(parsing text: String, timeZone: TimeZone) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
        self.timeZone = timeZone
        // Reject 2026-02-30 and friends: the round trip must give the same day.
        guard LocalDay(date: start, timeZone: timeZone) == self else { return nil }
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Local midnight at the start of the day.
    public var start: Date {
        calendar.date(from: DateComponents(year: year, month: month, day: day))!
    }

    /// Local midnight at the start of the next day.
    public var end: Date {
        calendar.date(byAdding: .day, value: 1, to: start)!
    }

    /// The day `count` days later (earlier when negative).
    public func adding(days count: Int) -> LocalDay {
        LocalDay(
            date: calendar.date(byAdding: .day, value: count, to: start)!.addingTimeInterval(3600), timeZone: timeZone)
    }

    /// 1 for Monday … 7 for Sunday.
    public var isoWeekday: Int {
        let weekday = calendar.component(.weekday, from: start)  // 1 = Sunday
        return weekday == 1 ? 7 : weekday - 1
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// `YYYYMMDD`.
    public var compact: String {
        String(format: "%04d%02d%02d", year, month, day)
    }
}
