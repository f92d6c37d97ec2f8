import Foundation

/// A WeCom self-built app with customer-contact permission (`wecom_apps:`): what creates the mass-message tasks that
/// reach residents' customer groups (docs/customer-groups.md).
public struct WeComApp: Sendable, Hashable, Identifiable {
    /// The id groups name in `app:`.
    public var id: String
    /// The corp's `corpid`.
    public var corpID: String
    /// The app's secret (`corpsecret`). Never log it.
    public var secret: String
    /// The API base URL: `https://qyapi.weixin.qq.com`, or a 政务微信 deployment's own host.
    public var api: String
    /// How many mass messages each customer group may receive, as the corp has set it.
    public var quota: MassMessageQuota
    /// When a task the member has not confirmed is cancelled.
    public var confirmDeadline: ConfirmDeadline
    /// After how long since a task was created its member is reminded (at most three).
    public var remindAfter: [Duration]
    /// How often open tasks' results are read.
    public var poll: Duration
    /// Where it was written.
    public var location: SourceLocation?

    /// The API of WeCom itself.
    public static let defaultAPI = "https://qyapi.weixin.qq.com"

    /// Creates an app.
    public init(
        id: String,
        corpID: String,
        secret: String,
        api: String = WeComApp.defaultAPI,
        quota: MassMessageQuota = .daysOfMonth,
        confirmDeadline: ConfirmDeadline = .within(.seconds(12 * 3600)),
        remindAfter: [Duration] = [],
        poll: Duration = .seconds(300),
        location: SourceLocation? = nil
    ) {
        self.id = id
        self.corpID = corpID
        self.secret = secret
        self.api = api
        self.quota = quota
        self.confirmDeadline = confirmDeadline
        self.remindAfter = remindAfter
        self.poll = poll
        self.location = location
    }
}

/// How many mass messages a customer group may receive per period (`quota:`). Messages members send by hand count
/// too, so gridcast's count from its ledger is a floor, not the platform's figure.
public enum MassMessageQuota: Sendable, Hashable, CustomStringConvertible {
    /// As many a calendar month as the month has days (WeCom's default): `days-of-month`.
    case daysOfMonth
    /// `N/week`, weeks starting Monday.
    case perWeek(Int)
    /// `N/day`.
    case perDay(Int)

    /// Reads `days-of-month`, `N/week` or `N/day` (N at least 1); nil for anything else.
    public init?(parsing text: String) {
        if text == "days-of-month" {
            self = .daysOfMonth
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        // Digits only: Int("+3") is 3, but "+3/day" is not a quota.
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 6,
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            let count = Int(parts[0]), count >= 1
        else { return nil }
        switch parts[1] {
        case "week": self = .perWeek(count)
        case "day": self = .perDay(count)
        default: return nil
        }
    }

    /// As the config writes it: `days-of-month`, `4/week`, `1/day`.
    public var description: String {
        switch self {
        case .daysOfMonth: "days-of-month"
        case .perWeek(let count): "\(count)/week"
        case .perDay(let count): "\(count)/day"
        }
    }
}

/// When a task the member has not confirmed is given up and cancelled.
public enum ConfirmDeadline: Sendable, Hashable, CustomStringConvertible {
    /// At this local time (`confirm_by: "20:00"`): the first such moment after the task was created.
    case by(hour: Int, minute: Int)
    /// This long after the task was created (`confirm_within: 2h`).
    case within(Duration)

    /// `by 20:00` or `within 12h`.
    public var description: String {
        switch self {
        case .by(let hour, let minute): "by " + String(format: "%02d:%02d", hour, minute)
        case .within(let duration): "within " + DurationSyntax.format(duration)
        }
    }
}
