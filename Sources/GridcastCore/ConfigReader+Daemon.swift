import Foundation
import Scheduling
import Yams

/// The dispatch settings, the API, schedules and `report_to`.
extension Reader {
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
        var viewerToken: (String, SourceLocation)?
        var tokenUnknown = false
        var limits = APIConfig(host: "", port: 0, token: "")
        for (key, value) in entries(mapping, allowed: ConfigLoader.apiKeys, context: "api") {
            switch key {
            case "listen":
                if let found = string(value, "api.listen") { listen = found }
            case "token":
                if let found = readToken(value, "api.token", inFile: false, resolve: resolve) {
                    token = found.0
                } else {
                    tokenUnknown = true
                }
            case "token_file":
                if let found = readToken(value, "api.token_file", inFile: true, resolve: resolve) {
                    token = found.0
                } else {
                    tokenUnknown = true
                }
            case "viewer_token":
                viewerToken = readToken(value, "api.viewer_token", inFile: false, resolve: resolve)
            case "viewer_token_file":
                viewerToken = readToken(value, "api.viewer_token_file", inFile: true, resolve: resolve) ?? viewerToken
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
        if token == nil && tokenUnknown {
            // Already reported, or (credentials deferred) not needed: the API's token is left empty.
            guard expansion.credentials == .deferred else { return nil }
            token = ""
        }
        guard let token, token.count >= 16 || tokenUnknown else {
            error(at, "api: needs token: or token_file: with a token of at least 16 characters")
            return nil
        }
        // The viewer token is a secret like the token: its messages never quote it.
        if let (viewer, viewerAt) = viewerToken {
            guard viewer.count >= 16 else {
                error(viewerAt, "api.viewer_token: needs at least 16 characters")
                return nil
            }
            guard viewer != token else {
                error(viewerAt, "api.viewer_token: must differ from api.token (the viewer token only reads)")
                return nil
            }
        }
        let host = String(listen.0[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return APIConfig(
            host: host, port: port, token: token, viewerToken: viewerToken?.0, readTimeout: limits.readTimeout,
            maxConnections: limits.maxConnections)
    }

    /// A token written as the value (`inFile` false) or in the file the value names, surrounding whitespace
    /// removed; nil when it is reported as a problem or, credentials deferred, not needed: a command that doesn't
    /// serve leaves an unset variable and the file alone (it may be a systemd credential, readable by the service
    /// only).
    private mutating func readToken(
        _ value: Node, _ name: String, inFile: Bool, resolve: (String) -> String
    ) -> (String, SourceLocation)? {
        guard let (text, location) = string(value, name, credential: true), !unexpanded.contains(location) else {
            return nil
        }
        guard inFile else { return (text, location) }
        guard expansion.credentials == .required else { return nil }
        let resolved = resolve(text)
        guard let data = FileManager.default.contents(atPath: resolved),
            let contents = String(data: data, encoding: .utf8)
        else {
            error(location, "\(name): cannot read \(resolved)")
            return nil
        }
        return (contents.trimmingCharacters(in: .whitespacesAndNewlines), location)
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
            var whenExhausted = ScheduleSpec.WhenExhausted.restart
            for (key, value) in entries(mapping, allowed: ConfigLoader.scheduleKeys, context: "schedules[\(index)]") {
                if key == "when_exhausted" {
                    guard let (text, at) = string(value, "schedules[\(index)].when_exhausted") else { continue }
                    if let parsed = ScheduleSpec.WhenExhausted(rawValue: text) {
                        whenExhausted = parsed
                    } else {
                        error(at, "schedules[\(index)].when_exhausted: expected restart or stop, got '\(text)'")
                    }
                } else if key == "catch_up" {
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
            // Each value is checked on its own, so that one run reports every problem of the schedule.
            var cron: CronSchedule?
            if let (cronText, cronAt) = values["cron"] {
                do {
                    let parsed = try CronSchedule(parsing: cronText)
                    if let never = parsed.neverFires {
                        error(cronAt, "schedule \(id): \(never)")
                    } else {
                        cron = parsed
                    }
                } catch {
                    self.error(cronAt, "schedule \(id): \(error.message)")
                }
                if let cron { warnIfFrequent(cron, schedule: id, at: cronAt) }
            } else {
                error(at, "schedule \(id): missing required key 'cron'")
            }
            let (toText, toAt) = values["to"] ?? ("all", at)
            var selector: Selector?
            do {
                let parsed = try Selector(parsing: toText)
                _ = try parsed.resolve(in: groups)
                selector = parsed
            } catch {
                self.error(toAt, "schedule \(id): \(error.message)")
            }
            let (pickText, pickAt) = values["pick"] ?? ("next-unsent", at)
            var pick: ScheduleSpec.Pick?
            switch pickText {
            case "next-unsent": pick = .nextUnsent
            case "dated": pick = .dated
            case let text where text.hasPrefix("notice:"):
                let noticeID = String(text.dropFirst(7))
                if library.entries.isEmpty || library.entry(noticeID) != nil {
                    pick = .notice(noticeID)
                } else {
                    error(pickAt, "schedule \(id): pick names notice '\(noticeID)', which is not in the notice library")
                }
            default:
                error(pickAt, "schedule \(id): pick must be next-unsent, dated or notice:ID, got '\(pickText)'")
            }
            if library.entries.isEmpty {
                error(pickAt, "schedule \(id): the config has no notice library (notices: {dir: …}) to pick from")
                continue
            }
            guard let cron, let selector, let pick else { continue }
            result.append(
                ScheduleSpec(
                    id: id, cron: cron, selector: selector, pick: pick, catchUp: catchUp, whenExhausted: whenExhausted,
                    location: at))
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
}
