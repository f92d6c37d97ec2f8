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
        /// The dispatch summary (日报/周报) of the period containing the firing, for the admin group (`report_to`).
        case summary(SummaryPeriod)

        public var description: String {
            switch self {
            case .nextUnsent: "next-unsent"
            case .dated: "dated"
            case .notice(let id): "notice:\(id)"
            case .summary(let period): "summary:\(period.rawValue)"
            }
        }
    }

    /// What `next-unsent` does for a group that has had every notice it may receive (`when_exhausted`).
    public enum WhenExhausted: String, Sendable, Hashable, CaseIterable {
        /// Start the rotation over: the group gets the library again, from the first notice, as a new round.
        case restart
        /// Send the group nothing more (the daemon warns once a day).
        case stop
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
    /// What `next-unsent` does once a group has had the whole library.
    public var whenExhausted: WhenExhausted
    /// Where it was defined.
    public var location: SourceLocation?

    /// Creates a schedule.
    public init(
        id: String,
        cron: CronSchedule,
        selector: Selector,
        pick: Pick,
        catchUp: Duration = .seconds(3600),
        whenExhausted: WhenExhausted = .restart,
        location: SourceLocation? = nil
    ) {
        self.id = id
        self.cron = cron
        self.selector = selector
        self.pick = pick
        self.catchUp = catchUp
        self.whenExhausted = whenExhausted
        self.location = location
    }
}

/// Which dispatch summary `report_to` posts.
public enum SummaryPeriod: String, Sendable, Hashable, CaseIterable {
    /// The day of the firing (日报).
    case daily
    /// The Monday–Sunday week containing the firing (周报).
    case weekly
}

/// The daemon's HTTP API settings.
public struct APIConfig: Sendable, Hashable {
    /// Address to listen on.
    public var host: String
    public var port: Int
    /// The bearer token (from `token:` or `token_file:`). A secret: never log it.
    public var token: String
    /// The audit page's read-only token (from `viewer_token:` or `viewer_token_file:`), if any. A secret too.
    public var viewerToken: String?
    /// `read_timeout`: how long a connection may take to send a request's headers, and then its body.
    public var readTimeout: Duration
    /// `max_connections`: open API connections at most.
    public var maxConnections: Int

    /// Creates settings.
    public init(
        host: String, port: Int, token: String, viewerToken: String? = nil, readTimeout: Duration = .seconds(10),
        maxConnections: Int = 256
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.viewerToken = viewerToken
        self.readTimeout = readTimeout
        self.maxConnections = maxConnections
    }
}
