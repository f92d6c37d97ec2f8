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
        "report_to",
    ]
    static let reportToKeys = ["group", "daily_at", "weekly_at"]
    static let scheduleKeys = ["id", "cron", "to", "pick", "catch_up"]
    static let apiKeys = ["listen", "token", "token_file", "read_timeout", "max_connections"]
    static let ledgerKeys = ["path"]
    static let dispatchKeys = [
        "concurrency", "timeout", "attempts", "backoff", "max_backoff", "rate_limit_pause", "in_doubt", "max_parts",
    ]
    static let groupKeys = [
        "id", "name", "sink", "url", "secret", "keyword", "chat_id", "tags", "mention_all", "rate", "format",
    ]

    /// The environment `${VAR}` reads from.
    public var expansion: EnvironmentExpansion
    /// The sinks groups may name.
    public var catalog: any SinkCatalog

    /// Creates a loader.
    public init(
        catalog: any SinkCatalog,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.catalog = catalog
        self.expansion = EnvironmentExpansion(environment: environment)
    }

    /// Loads the config at `path`.
    public func load(path: String) throws(ConfigError) -> GridcastConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError([Diagnostic(nil, "\(path): cannot read config file")])
        }
        switch TextDecoding.decode(data) {
        case .text(let text):
            return try load(yaml: text, file: path)
        case .invalid(let line, let column):
            throw ConfigError([
                Diagnostic(
                    SourceLocation(file: path, line: line, column: column),
                    "config is not valid UTF-8 here: \(TextDecoding.advice)")
            ])
        }
    }

    /// Loads a config from text; `file` names it in diagnostics and anchors relative paths.
    public func load(yaml: String, file: String) throws(ConfigError) -> GridcastConfig {
        var reader = Reader(file: file, expansion: expansion)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            let problem = YAMLProblem(error, yaml: yaml)
            throw ConfigError([
                Diagnostic(SourceLocation(file: file, line: problem.line, column: problem.column), problem.message)
            ])
        } catch {
            throw ConfigError([Diagnostic(SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML")])
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
        for (key, value) in reader.entries(mapping, allowed: Self.rootKeys, context: "config") {
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
                for (key, value) in reader.entries(ledger, allowed: Self.ledgerKeys, context: "ledger") {
                    if key == "path", let (path, _) = reader.string(value, "ledger.path") { config.ledger.path = path }
                }
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
            case "notices":
                guard let notices = reader.mapping(value, key) else { continue }
                for (key, value) in reader.entries(notices, allowed: ["dir"], context: "notices") where key == "dir" {
                    if let found = reader.string(value, "notices.dir") { noticesDirectory = found }
                }
            case "quiet_hours":
                if let (text, at) = reader.string(value, key) {
                    do { config.quietHours = try QuietHours(parsing: text) } catch { reader.error(at, error.message) }
                }
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
            groups += reader.inlineGroups(groupsNode)
        }
        if let (path, location) = groupsFile {
            let csv = reader.csvGroups(path: resolve(path, relativeTo: file), named: path, at: location)
            // Taken whole when there are no inline groups: appending would copy every group.
            if groups.isEmpty { groups = csv } else { groups += csv }
        }
        if groupsNode == nil && groupsFile == nil {
            reader.error(
                SourceLocation(file: file, line: 1, column: 1),
                "config defines no groups: add `groups:` or `groups_file:`")
        }
        config.groups = reader.checked(groups, catalog: catalog)
        if !groups.isEmpty {
            // A library notice whose audience names a group or tag that doesn't exist would silently never be sent
            // (a typo such as tag:eldery): refuse it, as a schedule's `to:` is refused. Checked against every group
            // written, so a group refused for another reason doesn't make its tags look unknown.
            for entry in config.library.entries {
                guard let selector = entry.selector else { continue }
                do {
                    _ = try selector.resolve(in: groups)
                } catch {
                    reader.error(entry.selectorLocation, "to: \(error.message)")
                }
            }
        }
        if let schedulesNode {
            config.schedules = reader.schedules(schedulesNode, groups: config.groups, library: config.library)
        }
        if let reportToNode {
            config.schedules += reader.reportTo(reportToNode, groups: config.groups)
        }
        guard reader.diagnostics.isEmpty else {
            throw ConfigError(reader.diagnostics.sorted(by: Reader.fileOrder))
        }
        return config
    }

    /// `path` relative to the directory of `file`, unless absolute.
    func resolve(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }
}

/// The walk over one config: typed accessors that record a diagnostic instead of failing.
/// Reads one config file, collecting every problem with its place; the groups readers are in
/// `ConfigReader+Groups.swift`.
struct Reader {
    let file: String
    let expansion: EnvironmentExpansion
    var diagnostics: [Diagnostic] = []

    init(file: String, expansion: EnvironmentExpansion) {
        self.file = file
        self.expansion = expansion
    }

    static func fileOrder(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
        let la = a.location
        let lb = b.location
        if la?.file != lb?.file { return (la?.file ?? "") < (lb?.file ?? "") }
        if la?.line != lb?.line { return (la?.line ?? 0) < (lb?.line ?? 0) }
        return (la?.column ?? 0) < (lb?.column ?? 0)
    }

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    mutating func error(_ location: SourceLocation?, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    /// The entries of a mapping with string keys; unknown and repeated keys are reported and skipped.
    mutating func entries(_ mapping: Node.Mapping, allowed: [String], context: String) -> [(String, Node)] {
        var seen: [String: SourceLocation] = [:]
        var result: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error(location(keyNode), "\(context): keys must be plain names")
                continue
            }
            let key = scalar.string
            if let first = seen[key] {
                error(location(keyNode), "\(context): key '\(key)' repeats the one at line \(first.line)")
                continue
            }
            seen[key] = location(keyNode)
            guard allowed.contains(key) else {
                error(location(keyNode), "\(context): unknown key '\(key)'\(KeySuggestion.hint(for: key, in: allowed))")
                continue
            }
            result.append((key, value))
        }
        return result
    }

    mutating func mapping(_ node: Node, _ key: String) -> Node.Mapping? {
        if case .mapping(let mapping) = node { return mapping }
        error(location(node), "\(key): expected a mapping of keys")
        return nil
    }

    /// A scalar value, env-expanded; nil (with a diagnostic) when it isn't a scalar or a variable is unset.
    /// `null`/empty give nil without a diagnostic when `optional`.
    mutating func string(_ node: Node, _ key: String, optional: Bool = false) -> (String, SourceLocation)? {
        guard case .scalar(let scalar) = node else {
            error(location(node), "\(key): expected a single value, not a list or mapping")
            return nil
        }
        let at = location(node)
        if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            if !optional { error(at, "\(key): a value is required") }
            return nil
        }
        switch expansion.expand(scalar.string) {
        case .success(let value):
            return (value, at)
        case .failure(.unset(let name)):
            error(at, "\(key): environment variable \(name) is not set")
        case .failure(.malformed):
            error(at, "\(key): malformed ${VAR} reference (use ${NAME} with letters, digits and _)")
        }
        return nil
    }

    mutating func integer(_ node: Node, _ key: String, range: ClosedRange<Int>) -> Int? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            error(at, "\(key): expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node, _ key: String) -> Duration? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let value = DurationSyntax.parse(text), value > .zero else {
            error(at, "\(key): expected a duration such as 250ms, 15s, 5m or 1h, got '\(text)'")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ key: String) -> Bool? {
        guard let (text, at) = string(node, key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(at, "\(key): expected true or false, got '\(text)'")
            return nil
        }
    }

    mutating func dispatch(_ mapping: Node.Mapping) -> DispatchSettings {
        var settings = DispatchSettings()
        for (key, value) in entries(mapping, allowed: ConfigLoader.dispatchKeys, context: "dispatch") {
            let name = "dispatch.\(key)"
            switch key {
            case "concurrency": settings.concurrency = integer(value, name, range: 1...1024) ?? settings.concurrency
            case "attempts": settings.attempts = integer(value, name, range: 1...100) ?? settings.attempts
            case "max_parts": settings.maxParts = integer(value, name, range: 1...50) ?? settings.maxParts
            case "timeout": settings.timeout = duration(value, name) ?? settings.timeout
            case "backoff": settings.backoff = duration(value, name) ?? settings.backoff
            case "max_backoff": settings.maxBackoff = duration(value, name) ?? settings.maxBackoff
            case "rate_limit_pause": settings.rateLimitPause = duration(value, name) ?? settings.rateLimitPause
            case "in_doubt":
                if let (text, at) = string(value, name) {
                    if let policy = InDoubtPolicy(rawValue: text) {
                        settings.inDoubt = policy
                    } else {
                        error(at, "\(name): expected hold or resend, got '\(text)'")
                    }
                }
            default: break
            }
        }
        return settings
    }

    mutating func api(_ mapping: Node.Mapping, at: SourceLocation, resolve: (String) -> String) -> APIConfig? {
        var listen = ("127.0.0.1:8640", at)
        var token: String?
        var limits = APIConfig(host: "", port: 0, token: "")
        for (key, value) in entries(mapping, allowed: ConfigLoader.apiKeys, context: "api") {
            switch key {
            case "listen":
                if let found = string(value, "api.listen") { listen = found }
            case "token":
                token = string(value, "api.token")?.0
            case "token_file":
                guard let (path, location) = string(value, "api.token_file") else { continue }
                let resolved = resolve(path)
                guard let data = FileManager.default.contents(atPath: resolved),
                    let text = String(data: data, encoding: .utf8)
                else {
                    error(location, "api.token_file: cannot read \(resolved)")
                    continue
                }
                token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            case "read_timeout":
                if let found = duration(value, "api.read_timeout") { limits.readTimeout = found }
            case "max_connections":
                if let found = integer(value, "api.max_connections", range: 1...100_000) {
                    limits.maxConnections = found
                }
            default: break
            }
        }
        guard let colon = listen.0.lastIndex(of: ":"), let port = Int(listen.0[listen.0.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            error(listen.1, "api.listen: expected HOST:PORT such as 127.0.0.1:8640, got '\(listen.0)'")
            return nil
        }
        guard let token, token.count >= 16 else {
            error(at, "api: needs token: or token_file: with a token of at least 16 characters")
            return nil
        }
        let host = String(listen.0[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return APIConfig(
            host: host, port: port, token: token, readTimeout: limits.readTimeout,
            maxConnections: limits.maxConnections)
    }

    mutating func schedules(_ node: Node, groups: [Group], library: NoticeLibrary) -> [ScheduleSpec] {
        guard case .sequence(let items) = node else {
            error(location(node), "schedules: expected a list of schedules (each starting with '- id: …')")
            return []
        }
        var result: [ScheduleSpec] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            guard case .mapping(let mapping) = item else {
                error(location(item), "schedules[\(index)]: expected a mapping with id, cron, to, pick")
                continue
            }
            var values: [String: (String, SourceLocation)] = [:]
            var catchUp = Duration.seconds(3600)
            for (key, value) in entries(mapping, allowed: ConfigLoader.scheduleKeys, context: "schedules[\(index)]") {
                if key == "catch_up" {
                    catchUp = duration(value, "schedules[\(index)].catch_up") ?? catchUp
                } else if let found = string(value, "schedules[\(index)].\(key)") {
                    values[key] = found
                }
            }
            let at = location(item)
            guard let (id, idAt) = values["id"] else {
                error(at, "schedules[\(index)]: missing required key 'id'")
                continue
            }
            if !Group.isValidID(id) {
                error(idAt, "schedule id '\(id)' is invalid: use lowercase letters, digits, '.', '_', '-'")
            }
            if !seen.insert(id).inserted { error(idAt, "duplicate schedule id '\(id)'") }
            guard let (cronText, cronAt) = values["cron"] else {
                error(at, "schedule \(id): missing required key 'cron'")
                continue
            }
            let cron: CronSchedule
            do { cron = try CronSchedule(parsing: cronText) } catch {
                self.error(cronAt, "schedule \(id): \(error.message)")
                continue
            }
            if let never = cron.neverFires {
                error(cronAt, "schedule \(id): \(never)")
                continue
            }
            let (toText, toAt) = values["to"] ?? ("all", at)
            let selector: Selector
            do {
                selector = try Selector(parsing: toText)
                _ = try selector.resolve(in: groups)
            } catch {
                self.error(toAt, "schedule \(id): \(error.message)")
                continue
            }
            let (pickText, pickAt) = values["pick"] ?? ("next-unsent", at)
            let pick: ScheduleSpec.Pick
            switch pickText {
            case "next-unsent": pick = .nextUnsent
            case "dated": pick = .dated
            case let text where text.hasPrefix("notice:"):
                let noticeID = String(text.dropFirst(7))
                guard library.entry(noticeID) != nil else {
                    error(pickAt, "schedule \(id): pick names notice '\(noticeID)', which is not in the notice library")
                    continue
                }
                pick = .notice(noticeID)
            default:
                error(pickAt, "schedule \(id): pick must be next-unsent, dated or notice:ID, got '\(pickText)'")
                continue
            }
            if library.entries.isEmpty {
                error(pickAt, "schedule \(id): the config has no notice library (notices: {dir: …}) to pick from")
                continue
            }
            result.append(
                ScheduleSpec(id: id, cron: cron, selector: selector, pick: pick, catchUp: catchUp, location: at))
        }
        return result
    }

    /// `report_to: {group: ID, daily_at: "18:00", weekly_at: "fri 18:00"}` as summary schedules for that group.
    mutating func reportTo(_ node: Node, groups: [Group]) -> [ScheduleSpec] {
        guard let mapping = mapping(node, "report_to") else { return [] }
        var values: [String: (String, SourceLocation)] = [:]
        for (key, value) in entries(mapping, allowed: ConfigLoader.reportToKeys, context: "report_to") {
            if let found = string(value, "report_to.\(key)") { values[key] = found }
        }
        guard let (groupID, groupAt) = values["group"] else {
            error(location(node), "report_to: missing required key 'group' (the admin group that gets the summary)")
            return []
        }
        guard groups.contains(where: { $0.id == groupID }) else {
            error(groupAt, "report_to.group: no group '\(groupID)' in this config")
            return []
        }
        if values["daily_at"] == nil && values["weekly_at"] == nil {
            error(location(node), "report_to: give daily_at (e.g. \"18:00\") and/or weekly_at (e.g. \"fri 18:00\")")
        }
        var result: [ScheduleSpec] = []
        for (key, period) in [("daily_at", SummaryPeriod.daily), ("weekly_at", .weekly)] {
            guard let (text, at) = values[key] else { continue }
            let words = text.split(separator: " ").map(String.init)
            let weekday = period == .weekly ? words.first : nil
            let minutes = words.last.flatMap { QuietHours.minutes($0[...]) }
            guard words.count == (period == .weekly ? 2 : 1), let minutes,
                let cron = try? CronSchedule(parsing: "\(minutes % 60) \(minutes / 60) * * \(weekday ?? "*")")
            else {
                error(
                    at,
                    "report_to.\(key): expected \(period == .weekly ? "a weekday and a time such as \"fri 18:00\"" : "a time such as \"18:00\""), got '\(text)'"
                )
                continue
            }
            // Catch up generously: a summary still belongs to its day when the daemon comes back in the evening.
            result.append(
                ScheduleSpec(
                    id: "report_to.\(period.rawValue)", cron: cron, selector: Selector(groupIDs: [groupID]),
                    pick: .summary(period), catchUp: .seconds(6 * 3600), location: at
                )
            )
        }
        return result
    }

    mutating func rateLimit(_ node: Node, _ key: String) -> RateLimit? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let rate = RateLimit(parsing: text) else {
            error(at, "\(key): expected a rate such as 10/min, 1/s or 5/s,100/min, got '\(text)'")
            return nil
        }
        return rate
    }

    mutating func messageFormat(_ node: Node, _ key: String) -> MessageFormat? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let format = MessageFormat(rawValue: text) else {
            error(at, "\(key): expected text or markdown, got '\(text)'")
            return nil
        }
        return format
    }

}
