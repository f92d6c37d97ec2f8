import Foundation

/// A moment as WeCom writes it: Unix seconds, as a number (`send_time`, `create_time`) or as a string of digits
/// (`media/upload`'s `created_at`, documented as `"1380000000"`).
public struct WeComTime: Codable, Hashable, Sendable {
    /// Seconds since 1970-01-01 UTC.
    public var seconds: Int

    /// The moment as a date.
    public var date: Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    /// A moment `seconds` after 1970-01-01 UTC.
    public init(seconds: Int) {
        self.seconds = seconds
    }

    /// The whole second at or before `date`.
    public init(_ date: Date) {
        seconds = Int(date.timeIntervalSince1970.rounded(.down))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            seconds = number
        } else if let text = try? container.decode(String.self), let number = Int(text) {
            seconds = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not Unix seconds")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(seconds)
    }
}
