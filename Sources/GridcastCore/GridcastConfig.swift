import Foundation
import Scheduling

/// Everything gridcast reads from its YAML config, validated.
public struct GridcastConfig: Sendable {
    /// The file the config came from.
    public var file: String
    /// The time zone that decides "today" for reports and derived notice ids.
    public var timeZone: TimeZone
    /// The ledger settings.
    public var ledger: LedgerSettings
    /// How deliveries are sent.
    public var dispatch: DispatchSettings
    /// Every group, inline ones first, then those of `groups_file`, in file order.
    public var groups: [Group] {
        didSet { groupIndex = Self.index(groups) }
    }
    private var groupIndex: [String: Int]
    /// The notice library (`notices.dir`), empty when the config names none.
    public var library = NoticeLibrary()
    /// Scheduled firings.
    public var schedules: [ScheduleSpec] = []
    /// Non-urgent deliveries due inside this daily window wait for its end.
    public var quietHours: QuietHours?
    /// The HTTP API of `gridcast serve`, when configured.
    public var api: APIConfig?
    /// WeCom apps that create customer-group mass-message tasks (`wecom_apps:`).
    public var wecomApps: [WeComApp] = []
    /// What is worth a look but does not stop the config (a library notice for a tag this config lacks…), in file
    /// order; `gridcast check` prints them.
    public var warnings: [Diagnostic] = []

    /// Creates a config.
    public init(
        file: String,
        timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!,
        ledger: LedgerSettings = LedgerSettings(),
        dispatch: DispatchSettings = DispatchSettings(),
        groups: [Group] = []
    ) {
        self.file = file
        self.timeZone = timeZone
        self.ledger = ledger
        self.dispatch = dispatch
        self.groups = groups
        self.groupIndex = Self.index(groups)
    }

    private static func index(_ groups: [Group]) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(groups.count)
        // By position, reading each id in place: mapping the groups would copy every one.
        for position in groups.indices where index[groups[position].id] == nil {
            index[groups[position].id] = position
        }
        return index
    }

    /// The WeCom app with this id.
    public func wecomApp(_ id: String) -> WeComApp? {
        wecomApps.first { $0.id == id }
    }

    /// The group with this id.
    public func group(_ id: String) -> Group? {
        groupIndex[id].map { groups[$0] }
    }

    /// Every secret of every group, the API tokens and the ledger's password, for redaction of text that may have
    /// picked one up.
    public var secrets: [String] {
        groups.flatMap(\.secrets) + wecomApps.map(\.secret).filter { !$0.isEmpty }
            + (api.map { [$0.token] + ($0.viewerToken.map { [$0] } ?? []) } ?? [])
            + (ledger.postgres?.password.map { [$0] } ?? [])
    }
}

/// Where the ledger lives: a SQLite file, or a PostgreSQL server shared by several instances.
public struct LedgerSettings: Sendable {
    /// The SQLite file. The loader resolves a relative `ledger.path` against the config file's directory.
    public var path: String
    /// `ledger.path` as the config file wrote it (earlier versions took a relative one from the working directory).
    public var asWritten: String
    /// The PostgreSQL server of `ledger.url`, its password resolved; nil for the SQLite file at ``path``.
    public var postgres: PostgresLocation?
    /// `ledger.instance_timeout`: how long a silent gridcast instance sharing a PostgreSQL ledger counts as alive.
    public var instanceTimeout: Duration = .seconds(30)

    /// Creates ledger settings.
    public init(path: String = "var/gridcast.sqlite") {
        self.path = path
        asWritten = path
    }
}

/// What happens to a delivery whose outcome is unknown.
public enum InDoubtPolicy: String, Sendable, CaseIterable {
    /// Keep it `in_doubt` until an operator resolves it: never risk a duplicate.
    case hold
    /// Send it again: never risk a miss.
    case resend
}

/// How the dispatcher sends: concurrency, timeouts, retries.
public struct DispatchSettings: Sendable, Equatable {
    /// Transfers in flight at once.
    public var concurrency: Int = 64
    /// Per-request deadline.
    public var timeout: Duration = .seconds(15)
    /// Requests per delivery before it is `dead` (rate-limit answers don't count).
    public var attempts: Int = 6
    /// The first retry delay; it doubles with jitter up to ``maxBackoff``.
    public var backoff: Duration = .seconds(2)
    /// The cap on retry delays.
    public var maxBackoff: Duration = .seconds(600)
    /// The pause after a "too fast" answer that names no `Retry-After`.
    public var rateLimitPause: Duration = .seconds(60)
    /// What to do with deliveries whose outcome is unknown.
    public var inDoubt: InDoubtPolicy = .hold
    /// A notice needing more parts than this for a platform's size limit is refused when planned.
    public var maxParts: Int = 5

    /// Creates settings with the documented defaults (README, "Config").
    public init() {}

    /// The safety margin a lease keeps on top of the requests it covers: longer than the ledger's busy timeout,
    /// so a slow commit can't outlive the claim.
    public var leaseMargin: Duration = .seconds(60)
}
