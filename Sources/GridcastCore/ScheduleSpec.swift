import Scheduling

/// A schedule from the config: when to fire, whom to send to, and which library notice each group gets.
public struct ScheduleSpec: Sendable, Hashable {
    /// How a firing chooses its notice.
    public enum Pick: Sendable, Hashable, CustomStringConvertible {
        /// Each group gets the next library notice (by file name) it has never had.
        case nextUnsent
        /// The library notice whose `date` is the firing's local day.
        case dated
        /// Always this library notice.
        case notice(String)

        public var description: String {
            switch self {
            case .nextUnsent: "next-unsent"
            case .dated: "dated"
            case .notice(let id): "notice:\(id)"
            }
        }
    }

    /// Unique id; with the fire time it keys the firing in the ledger.
    public var id: String
    /// When it fires, in the config's time zone.
    public var cron: CronSchedule
    /// Which groups.
    public var selector: Selector
    /// Which notice.
    public var pick: Pick
    /// A firing missed while the daemon was down still runs at start if it is at most this old.
    public var catchUp: Duration
    /// Where it was defined.
    public var location: SourceLocation?

    /// Creates a schedule.
    public init(
        id: String,
        cron: CronSchedule,
        selector: Selector,
        pick: Pick,
        catchUp: Duration = .seconds(3600),
        location: SourceLocation? = nil
    ) {
        self.id = id
        self.cron = cron
        self.selector = selector
        self.pick = pick
        self.catchUp = catchUp
        self.location = location
    }
}

/// The daemon's HTTP API settings.
public struct APIConfig: Sendable, Hashable {
    /// Address to listen on.
    public var host: String
    public var port: Int
    /// The bearer token (from `token:` or `token_file:`). A secret: never log it.
    public var token: String

    /// Creates settings.
    public init(host: String, port: Int, token: String) {
        self.host = host
        self.port = port
        self.token = token
    }
}
