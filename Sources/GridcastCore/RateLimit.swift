/// A bot's published sending limit: one or more windows, all of which must allow a message (`5/s` and `100/min`).
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    /// `count` messages per `period`.
    public struct Window: Sendable, Hashable {
        public var count: Int
        public var period: Duration

        public init(count: Int, period: Duration) {
            self.count = count
            self.period = period
        }
    }

    /// The windows, each enforced.
    public var windows: [Window]

    /// Creates a limit from windows.
    public init(_ windows: [Window]) {
        self.windows = windows
    }

    /// `n` messages a second.
    public static func perSecond(_ count: Int) -> RateLimit { RateLimit([Window(count: count, period: .seconds(1))]) }
    /// `n` messages a minute.
    public static func perMinute(_ count: Int) -> RateLimit { RateLimit([Window(count: count, period: .seconds(60))]) }

    /// Both limits at once.
    public func and(_ other: RateLimit) -> RateLimit { RateLimit(windows + other.windows) }

    /// Parses `10/min`, `5/s`, `100/h`, or several joined by commas (`5/s,100/min`).
    public init?(parsing text: String) {
        var windows: [Window] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "/")
            guard pieces.count == 2, let count = Int(String(pieces[0]).trimmingSpaces), count > 0, count <= 100_000
            else { return nil }
            let period: Duration
            switch String(pieces[1]).trimmingSpaces {
            case "s", "sec", "second": period = .seconds(1)
            case "m", "min", "minute": period = .seconds(60)
            case "h", "hour": period = .seconds(3600)
            default: return nil
            }
            windows.append(Window(count: count, period: period))
        }
        guard !windows.isEmpty else { return nil }
        self.windows = windows
    }

    public var description: String {
        windows.map { window in
            let unit =
                switch window.period {
                case .seconds(1): "s"
                case .seconds(60): "min"
                default: "h"
                }
            return "\(window.count)/\(unit)"
        }.joined(separator: ",")
    }
}

/// How a group wants its messages rendered where the platform offers a choice.
public enum MessageFormat: String, Sendable, Hashable, CaseIterable {
    /// Plain text (every platform).
    case text
    /// The platform's markdown (WeCom, DingTalk, Feishu cards, Slack mrkdwn, Telegram HTML, Discord, Teams).
    case markdown
}
