import Foundation

/// A daily window, such as `21:30-07:30`, in which non-urgent deliveries wait; it may cross midnight.
public struct QuietHours: Sendable, Hashable, CustomStringConvertible {
    /// Minutes after local midnight.
    public let start: Int
    public let end: Int

    /// Why a window was refused.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong, naming the field.
        public var message: String
        public var description: String { message }

        /// Creates a failure.
        public init(message: String) { self.message = message }
    }

    /// Parses `HH:MM-HH:MM`.
    public init(parsing text: String) throws(Failure) {
        // Empty pieces count: "-21:30-07:30" and "21:30--07:30" are not windows.
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let start = Self.minutes(bounds[0]), let end = Self.minutes(bounds[1]), start != end
        else {
            throw Failure(message: "quiet_hours: expected HH:MM-HH:MM such as 21:30-07:30, got '\(text)'")
        }
        self.start = start
        self.end = end
    }

    /// Minutes since midnight of a time of day written `H:MM` or `HH:MM` (24-hour), or nil.
    public static func minutes(_ text: Substring) -> Int? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        // Digits only: Int("+9") is 9, but "+9:00" is not a time of day.
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    public var description: String {
        String(format: "%02d:%02d-%02d:%02d", start / 60, start % 60, end / 60, end % 60)
    }

    /// When a delivery due at `date` may go: `date` itself outside the window, else the window's end.
    public func release(_ date: Date, in timeZone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let now = parts.hour! * 60 + parts.minute!
        let inside = start < end ? (now >= start && now < end) : (now >= start || now < end)
        guard inside else { return date }
        let midnight = calendar.startOfDay(for: date)
        var release = calendar.date(byAdding: .minute, value: end, to: midnight)!
        if release <= date { release = calendar.date(byAdding: .day, value: 1, to: release)! }
        return release
    }
}
