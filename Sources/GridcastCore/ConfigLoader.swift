import Foundation
import Scheduling
import Yams

/// Reads and validates a gridcast YAML config (and its `groups_file`), collecting every problem with its place.
///
/// Parsing goes through Yams' node tree, so every value keeps its line and column; `${VAR}` is expanded in scalar
/// values after parsing, so a variable's content can never change the YAML structure.
public struct ConfigLoader: Sendable {
    /// Top-level keys.
    static let rootKeys = [
        "timezone", "ledger", "dispatch", "groups_file", "groups", "notices", "schedules", "quiet_hours", "api",
        "report_to", "mention_all", "urgent_prefix", "feishu_app", "wecom_apps",
    ]
    static let feishuAppKeys = ["app_id", "app_secret", "api"]
    static let wecomAppKeys = [
        "id", "corp_id", "secret", "api", "quota", "confirm_by", "confirm_within", "remind_after", "poll",
    ]
    static let reportToKeys = ["group", "daily_at", "weekly_at"]
    static let scheduleKeys = ["id", "cron", "to", "pick", "catch_up", "when_exhausted"]
    static let apiKeys = [
        "listen", "token", "token_file", "viewer_token", "viewer_token_file", "read_timeout", "max_connections",
    ]
    static let ledgerKeys = ["path", "url", "password_file", "instance_timeout"]
    static let dispatchKeys = [
        "concurrency", "timeout", "attempts", "backoff", "max_backoff", "rate_limit_pause", "in_doubt", "max_parts",
    ]
    static let groupKeys = [
        "id", "name", "sink", "url", "secret", "keyword", "chat_id", "thread_id", "thread_name", "tags", "mention_all",
        "rate", "format", "app", "owner", "feishu_app",
    ]

    /// The environment `${VAR}` reads from.
    public var expansion: EnvironmentExpansion
    /// The sinks groups may name.
    public var catalog: any SinkCatalog
    /// Whether the config must define groups: `gridcast wecom groups` lists an app's customer groups before any of
    /// them is configured.
    public var groupsRequired = true
    /// Whether to read only `timezone` and `ledger` (and check nothing else): `gridcast ledger verify` needs no more,
    /// and a city's 100,000 groups cost seconds and a hundred megabytes to read.
    public var ledgerOnly = false

    /// Creates a loader. With `credentials: .deferred`, an unset variable in a group's `url` or `secret`, in an
    /// app's id, corp id or secret (`feishu_app`, `wecom_apps`) or in the API token is no error: the value stays
    /// unexpanded (for commands that neither send nor serve).
    public init(
        catalog: any SinkCatalog,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        credentials: EnvironmentExpansion.CredentialUse = .required
    ) {
        self.catalog = catalog
        self.expansion = EnvironmentExpansion(environment: environment, credentials: credentials)
    }

    /// A config as read, with what did not stop it.
    public struct Loaded: Sendable {
        /// The validated config.
        public var config: GridcastConfig
        /// Worth a look, not wrong (``GridcastConfig/warnings``): a schedule that fires more often than hourly…
        public var warnings: [Diagnostic] { config.warnings }
        /// Credentials left unexpanded (credentials deferred): their variables are unset.
        public var deferred: [Deferred]
    }

    /// A credential left unexpanded because its variables are unset and the command doesn't use it.
    public struct Deferred: Sendable, Hashable {
        /// Where it is written.
        public var location: SourceLocation
        /// Its key, e.g. `groups[3].url`.
        public var field: String
        /// The unset variables it names.
        public var variables: [String]
    }

    /// Loads the config at `path`.
    public func load(path: String) throws(ConfigError) -> GridcastConfig {
        try loaded(path: path).config
    }

    /// Loads a config from text; `file` names it in diagnostics and anchors relative paths.
    public func load(yaml: String, file: String) throws(ConfigError) -> GridcastConfig {
        try loaded(yaml: yaml, file: file).config
    }

    /// Loads the config at `path`, with its warnings.
    public func loaded(path: String) throws(ConfigError) -> Loaded {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError([Diagnostic(nil, "\(path): cannot read config file")])
        }
        switch TextDecoding.decode(data) {
        case .text(let text):
            return try loaded(yaml: text, file: path)
        case .invalid(let line, let column):
            throw ConfigError([
                Diagnostic(
                    SourceLocation(file: path, line: line, column: column),
                    "config is not valid UTF-8 here: \(TextDecoding.advice)")
            ])
        }
    }

    /// Loads a config from text, with its warnings; `file` names it in diagnostics and anchors relative paths.
    public func loaded(yaml: String, file: String) throws(ConfigError) -> Loaded {
        var reader = Reader(file: file, expansion: expansion)
        // Full-width punctuation typed with a Chinese input method (`sink：wecom`) makes YAML fail a line or more
        // later, or read the line as part of a value: say what and where it is instead.
        let fullWidth = YAMLProblem.fullWidthPunctuation(in: yaml)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            let problems = fullWidth.isEmpty ? [YAMLProblem(error, yaml: yaml)] : fullWidth
            throw ConfigError(
                problems.map { Diagnostic(SourceLocation(file: file, line: $0.line, column: $0.column), $0.message) })
        } catch {
            throw ConfigError([Diagnostic(SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML")])
        }
        if !fullWidth.isEmpty {
            throw ConfigError(
                fullWidth.map { Diagnostic(SourceLocation(file: file, line: $0.line, column: $0.column), $0.message) })
        }
        guard let root, case .mapping(let mapping) = root else {
            throw ConfigError([
                Diagnostic(
                    SourceLocation(file: file, line: 1, column: 1),
                    "config must be a mapping of keys (timezone, ledger, dispatch, groups…)")
            ])
        }
        var config = GridcastConfig(file: file)
        var groupsNode: Node?
        var groupsFile: (String, SourceLocation)?
        var schedulesNode: Node?
        var reportToNode: Node?
        var noticesDirectory: (String, SourceLocation)?
        var feishuApp: FeishuApp?
        for (key, value) in reader.entries(mapping, allowed: Self.rootKeys, context: "config") {
            if ledgerOnly && key != "timezone" && key != "ledger" { continue }
            switch key {
            case "timezone":
                if let (name, location) = reader.string(value, key) {
                    if let zone = TimeZone(identifier: name) {
                        config.timeZone = zone
                    } else {
                        reader.error(
                            location, "timezone: unknown time zone '\(name)' (use an IANA name such as Asia/Shanghai)")
                    }
                }
            case "ledger":
                guard let ledger = reader.mapping(value, key) else { continue }
                config.ledger = reader.ledger(ledger, resolve: { resolve($0, relativeTo: file) })
            case "dispatch":
                guard let dispatch = reader.mapping(value, key) else { continue }
                config.dispatch = reader.dispatch(dispatch)
            case "groups_file":
                if let (path, location) = reader.string(value, key) { groupsFile = (path, location) }
            case "groups":
                groupsNode = value
            case "schedules":
                schedulesNode = value
            case "report_to":
                reportToNode = value
            case "mention_all", "urgent_prefix":
                reader.groupDefault(key, value)
            case "notices":
                guard let notices = reader.mapping(value, key) else { continue }
                for (key, value) in reader.entries(notices, allowed: ["dir"], context: "notices") where key == "dir" {
                    if let found = reader.string(value, "notices.dir") { noticesDirectory = found }
                }
            case "quiet_hours":
                if let (text, at) = reader.string(value, key) {
                    do { config.quietHours = try QuietHours(parsing: text) } catch { reader.error(at, error.message) }
                }
            case "feishu_app":
                let at = reader.keyLocation(key, in: mapping) ?? reader.location(value)
                feishuApp = reader.feishuApp(value, key, at: at, catalog: catalog)
            case "wecom_apps":
                config.wecomApps = reader.wecomApps(value, catalog: catalog)
            case "api":
                guard let api = reader.mapping(value, key) else { continue }
                config.api = reader.api(api, at: reader.location(value), resolve: { resolve($0, relativeTo: file) })
            default:
                break
            }
        }
        // Relative to the config file like every other path in it, so that one config means one ledger from
        // whatever directory gridcast runs in. As written, for the check of the old working-directory location.
        config.ledger.asWritten = config.ledger.path
        config.ledger.path = resolve(config.ledger.path, relativeTo: file)
        if let (directory, at) = noticesDirectory {
            let (library, problems) = NoticeLibrary.load(
                directory: resolve(directory, relativeTo: file), environment: expansion
            )
            config.library = library
            for problem in problems {
                reader.error(problem.location ?? at, problem.message)
            }
        }
        var groups: [Group] = []
        if let groupsNode {
            groups += reader.inlineGroups(groupsNode, catalog: catalog)
        }
        if let (path, location) = groupsFile {
            let csv = reader.csvGroups(
                path: resolve(path, relativeTo: file), named: path, at: location, catalog: catalog)
            // Taken whole when there are no inline groups: appending would copy every group.
            if groups.isEmpty { groups = csv } else { groups += csv }
        }
        if groupsNode == nil && groupsFile == nil && groupsRequired && !ledgerOnly {
            reader.error(
                SourceLocation(file: file, line: 1, column: 1),
                "config defines no groups: add `groups:` or `groups_file:`")
        }
        // The top-level Feishu app is every Feishu/Lark group's that names none of its own.
        if let feishuApp {
            for index in groups.indices where groups[index].feishuApp == nil {
                if ["feishu", "lark"].contains(groups[index].sink) { groups[index].feishuApp = feishuApp }
            }
        }
        config.groups = reader.checked(groups, catalog: catalog, wecomApps: config.wecomApps.map(\.id))
        if !groups.isEmpty {
            // Checked against every group written, so a group refused for another reason doesn't make its tags look
            // unknown.
            config.warnings += config.library.audienceWarnings(groups: groups)
        }
        // Audiences are checked against every group written, like the library's above: a group refused for its
        // own problem must not make a schedule's tag look unknown as well.
        if let schedulesNode {
            config.schedules = reader.schedules(schedulesNode, groups: groups, library: config.library)
        }
        if let reportToNode {
            config.schedules += reader.reportTo(reportToNode, groups: groups)
        }
        guard reader.diagnostics.isEmpty else {
            throw ConfigError(reader.diagnostics.sorted(by: Reader.fileOrder))
        }
        config.warnings = (config.warnings + reader.warnings).sorted(by: Reader.fileOrder)
        return Loaded(config: config, deferred: reader.deferred)
    }

    /// `path` relative to the directory of `file`, unless absolute.
    func resolve(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }
}

extension Reader {
    /// Warns when `cron` fires more often than hourly (`* * * * *`): every firing posts into the groups, and a demo
    /// schedule copied into production would post a notice a minute.
    mutating func warnIfFrequent(_ cron: CronSchedule, schedule id: String, at location: SourceLocation) {
        // Eight days from a Monday in UTC cover every weekday; the first two firings less than an hour apart tell.
        let utc = TimeZone(identifier: "UTC")!
        var previous = Date(timeIntervalSince1970: 1_767_571_200)  // 2026-01-05 00:00 UTC, a Monday
        let end = previous.addingTimeInterval(8 * 86_400)
        var last: Date?
        while let next = cron.next(after: previous, in: utc), next <= end {
            if let last, next.timeIntervalSince(last) < 3600 {
                let minutes = Int(next.timeIntervalSince(last) / 60)
                warnings.append(
                    Diagnostic(
                        location,
                        "schedule \(id): cron \"\(cron)\" fires more often than hourly (every \(minutes) "
                            + "\(minutes == 1 ? "minute" : "minutes")): every firing posts into its groups"))
                return
            }
            last = next
            previous = next
        }
    }
}
