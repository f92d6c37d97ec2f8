import Foundation

/// Wall-clock times in a test's time zone, written as people write them: `2026-12-01 09:30` or `… 09:30:05`.
public struct LocalTime: Sendable {
    /// The zone.
    public let timeZone: TimeZone

    /// Times in `identifier` (default Asia/Shanghai, gridcast's default).
    public init(_ identifier: String = "Asia/Shanghai") {
        timeZone = TimeZone(identifier: identifier)!
    }

    /// The instant of a local time; crashes the test on a typo.
    public func callAsFunction(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = text.count > 16 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm"
        guard let date = formatter.date(from: text) else { fatalError("not a local time: \(text)") }
        return date
    }
}
