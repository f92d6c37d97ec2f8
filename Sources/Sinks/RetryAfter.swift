import Foundation
import Transport

/// The `Retry-After` header: delay-seconds or an HTTP-date.
public enum RetryAfter {
    /// The delay a response asks for, or nil when it names none (or an absurd one).
    public static func delay(in response: HTTPResponse, now: Date = Date()) -> Duration? {
        guard let value = response.header("retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        return parse(value, now: now)
    }

    /// Parses a header value; fractional seconds are accepted, capped at one day.
    public static func parse(_ value: String, now: Date = Date()) -> Duration? {
        if let seconds = Double(value), seconds >= 0, seconds.isFinite {
            return .milliseconds(Int64(min(seconds, 86_400) * 1000))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = max(0, min(date.timeIntervalSince(now), 86_400))
        return .milliseconds(Int64(seconds * 1000))
    }
}
