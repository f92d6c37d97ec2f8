import Foundation
import Scheduling
import Yams

/// The apps whose credentials reach what a webhook can't: `feishu_app` (top level and per group) and `wecom_apps`.
extension Reader {
    /// A `feishu_app: {app_id, app_secret, api}` mapping; nil (reported) when it isn't one or lacks a key. `at` is
    /// where its key is written, the app's place.
    mutating func feishuApp(
        _ node: Node, _ context: String, at: SourceLocation, catalog: any SinkCatalog
    )
        -> FeishuApp?
    {
        guard let mapping = mapping(node, context) else { return nil }
        var appID: String?
        var appSecret: String?
        var api: String?
        var present: Set<String> = []
        for (key, value) in entries(mapping, allowed: ConfigLoader.feishuAppKeys, context: context) {
            present.insert(key)
            let name = "\(context).\(key)"
            switch key {
            case "app_id": appID = credential(value, name)
            case "app_secret": appSecret = credential(value, name)
            case "api": api = address(value, name, catalog: catalog)
            default: break
            }
        }
        for key in ["app_id", "app_secret"] where !present.contains(key) {
            error(at, "\(context): missing required key '\(key)'")
        }
        guard let appID, let appSecret else { return nil }
        return FeishuApp(appID: appID, appSecret: appSecret, api: api, location: at)
    }

    /// The `wecom_apps:` list. An app with a problem is still returned when it has an id, so groups naming it are
    /// not reported as well.
    mutating func wecomApps(_ node: Node, catalog: any SinkCatalog) -> [WeComApp] {
        guard case .sequence(let items) = node else {
            error(location(node), "wecom_apps: expected a list of apps (each starting with '- id: …')")
            return []
        }
        var apps: [WeComApp] = []
        var firstByID: [String: SourceLocation] = [:]
        for (index, item) in items.enumerated() {
            let context = "wecom_apps[\(index)]"
            guard case .mapping(let mapping) = item else {
                error(location(item), "\(context): expected a mapping with id, corp_id, secret…")
                continue
            }
            let at = location(item)
            var app = WeComApp(id: "", corpID: "", secret: "", location: at)
            var id: (String, SourceLocation)?
            var confirmBy: SourceLocation?
            var confirmWithin: SourceLocation?
            var reminders: [(Duration, SourceLocation)] = []
            var present: Set<String> = []
            for (key, value) in entries(mapping, allowed: ConfigLoader.wecomAppKeys, context: context) {
                present.insert(key)
                let name = "\(context).\(key)"
                switch key {
                case "id": id = string(value, name)
                case "corp_id": app.corpID = credential(value, name) ?? ""
                case "secret": app.secret = credential(value, name) ?? ""
                case "api": app.api = address(value, name, catalog: catalog) ?? app.api
                case "quota":
                    guard let (text, textAt) = string(value, name) else { continue }
                    if let quota = MassMessageQuota(parsing: text) {
                        app.quota = quota
                    } else {
                        error(textAt, "\(name): expected days-of-month, N/week or N/day (N at least 1), got '\(text)'")
                    }
                case "confirm_by":
                    guard let (text, textAt) = string(value, name) else { continue }
                    confirmBy = textAt
                    if let minutes = QuietHours.minutes(text[...]) {
                        app.confirmDeadline = .by(hour: minutes / 60, minute: minutes % 60)
                    } else {
                        error(textAt, "\(name): expected a time of day such as \"20:00\", got '\(text)'")
                    }
                case "confirm_within":
                    confirmWithin = location(value)
                    if let within = duration(value, name) { app.confirmDeadline = .within(within) }
                case "remind_after":
                    reminders = durations(value, name)
                case "poll":
                    guard let poll = duration(value, name) else { continue }
                    if poll < .seconds(30) {
                        error(location(value), "\(name): at least 30s, got \(DurationSyntax.format(poll))")
                    } else {
                        app.poll = poll
                    }
                default: break
                }
            }
            let shownID = id.map { "wecom app \($0.0)" } ?? context
            for key in ["id", "corp_id", "secret"] where !present.contains(key) {
                error(at, "\(shownID): missing required key '\(key)'")
            }
            if let confirmBy, let confirmWithin {
                let later = Self.fileOrder(Diagnostic(confirmBy, ""), Diagnostic(confirmWithin, ""))
                error(later ? confirmWithin : confirmBy, "\(shownID): give confirm_by or confirm_within, not both")
            }
            app.remindAfter = checkedReminders(
                reminders, deadline: app.confirmDeadline, context: "\(context).remind_after")
            guard let (idText, idAt) = id else { continue }
            if !Group.isValidID(idText) {
                error(
                    idAt,
                    "wecom app id '\(idText)' is invalid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
                )
            }
            if let first = firstByID[idText] {
                error(idAt, "duplicate wecom_apps id '\(idText)' (first defined at \(first))")
                continue
            }
            firstByID[idText] = at
            app.id = idText
            apps.append(app)
        }
        return apps
    }

    /// The reminders as written, checked: at most three, ascending, each before a `confirm_within` deadline.
    private mutating func checkedReminders(
        _ reminders: [(Duration, SourceLocation)], deadline: ConfirmDeadline, context: String
    ) -> [Duration] {
        if reminders.count > 3, let fourth = reminders.dropFirst(3).first {
            error(fourth.1, "\(context): at most 3 reminders, got \(reminders.count)")
        }
        for (previous, next) in zip(reminders, reminders.dropFirst()) where next.0 <= previous.0 {
            error(
                next.1,
                "\(context): \(DurationSyntax.format(next.0)) is not after \(DurationSyntax.format(previous.0)): list reminders in ascending order"
            )
        }
        if case .within(let within) = deadline {
            for (reminder, at) in reminders where reminder >= within {
                error(
                    at,
                    "\(context): \(DurationSyntax.format(reminder)) is not before the deadline (confirm_within \(DurationSyntax.format(within)))"
                )
            }
        }
        return reminders.map(\.0)
    }

    /// A list of durations, each with its place.
    private mutating func durations(_ node: Node, _ key: String) -> [(Duration, SourceLocation)] {
        guard case .sequence(let items) = node else {
            error(location(node), "\(key): expected a list of durations such as [30m, 2h]")
            return []
        }
        return items.compactMap { item in duration(item, key).map { ($0, location(item)) } }
    }

    /// A credential: required and not empty; an unset variable is kept as written when credentials are deferred.
    private mutating func credential(_ node: Node, _ key: String) -> String? {
        guard let (text, at) = string(node, key, credential: true) else { return nil }
        guard !text.isEmpty else {
            error(at, "\(key): a value is required, not an empty one")
            return nil
        }
        return text
    }

    /// An app's API address: `https://`, or `http://` to loopback only, like webhook URLs.
    private mutating func address(_ node: Node, _ key: String, catalog: any SinkCatalog) -> String? {
        guard let (text, at) = string(node, key, optional: true) else { return nil }
        if let problem = catalog.addressProblem(text) {
            error(at, "\(key): \(problem)")
            return nil
        }
        return text
    }

    /// Where `key` is written in `mapping`: an app's place is its key, as the value may start on the next line.
    func keyLocation(_ key: String, in mapping: Node.Mapping) -> SourceLocation? {
        mapping.first { $0.key.string == key }.map { location($0.key) }
    }
}
