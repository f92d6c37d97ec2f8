import Foundation
import Yams

/// One group as written, before its values are read: each field's text and where it stands. Both readers of groups
/// — the YAML `groups:` list and the CSV groups file — fill one and hand it to ``Reader/group(from:)``, so a group
/// means the same in either file: the same booleans, tag separators, rates and formats, and the same messages.
struct GroupFields {
    /// A field's text (variables expanded) and where it stands.
    struct Field {
        var text: String
        var at: SourceLocation
    }

    /// Where the group starts.
    var at: SourceLocation
    var id: Field
    var sink: Field
    /// None for a customer group, which has no webhook.
    var url: Field?
    var name: Field?
    var secret: Field?
    var keyword: Field?
    var chatID: Field?
    var threadID: Field?
    var threadName: Field?
    var mentionAll: Field?
    var rate: Field?
    var format: Field?
    /// A customer group's app and owner.
    var app: Field?
    var owner: Field?
    /// The group's own Feishu app (YAML only) and where its key is written.
    var feishuApp: FeishuApp?
    var feishuAppAt: SourceLocation?
    /// Tags as one text (`a;b` or `a,b`), or, from a YAML list, one by one.
    var tags: Field?
    var tagList: [String]?
    /// Where the tags stand when given as a YAML list.
    var tagsAt: SourceLocation?
    /// Whether each field's own place is known (YAML: line and column) or only the group's (CSV: its line).
    var fieldsHavePlaces: Bool
}

extension Reader {
    /// Reads a group's fields: one set of rules for both files. A bad value is reported at its field, named with the
    /// group's id, and leaves the field at its default.
    mutating func group(from fields: GroupFields) -> Group {
        let id = fields.id.text
        // A value is quoted back in its message, except for the group's own secrets (a key pasted into the
        // wrong column must not reach a log).
        var secrets = SecretMask.credentials(in: fields.url?.text ?? "")
        if let secret = fields.secret?.text, !secret.isEmpty { secrets.append(secret) }
        if let appSecret = fields.feishuApp?.appSecret, !appSecret.isEmpty { secrets.append(appSecret) }
        func shown(_ field: GroupFields.Field) -> String {
            secrets.isEmpty ? field.text : SecretMask.redact(field.text, secrets: secrets)
        }
        // The top-level default is for groups that can mention everyone: a customer group can't.
        var mentionAll = fields.sink.text == Group.customerGroupSink ? .never : defaultMentionAll
        if let field = fields.mentionAll {
            if let value = MentionAll(parsing: field.text) {
                mentionAll = value
            } else {
                error(field.at, "group \(id): mention_all: expected false, true or urgent, got '\(shown(field))'")
            }
        }
        var rate: RateLimit?
        if let field = fields.rate {
            rate = RateLimit(parsing: field.text)
            if rate == nil {
                error(
                    field.at,
                    "group \(id): rate: expected a rate such as 10/min, 1/s or 5/s,100/min, got '\(shown(field))'")
            }
        }
        var format = MessageFormat.text
        if let field = fields.format {
            if let parsed = MessageFormat(rawValue: field.text) {
                format = parsed
            } else {
                error(field.at, "group \(id): format: expected text or markdown, got '\(shown(field))'")
            }
        }
        var group = Group(
            id: id,
            name: fields.name?.text ?? id,
            sink: fields.sink.text,
            url: fields.url?.text ?? "",
            secret: fields.secret?.text,
            keyword: fields.keyword?.text,
            chatID: fields.chatID?.text,
            tags: fields.tagList ?? Self.tags(fields.tags?.text),
            mentionAll: mentionAll,
            rate: rate,
            format: format,
            location: fields.at
        )
        group.urgentPrefix = urgentPrefix
        group.threadID = fields.threadID?.text
        group.threadName = fields.threadName?.text
        group.app = fields.app?.text
        group.owner = fields.owner?.text
        // Set only when there is one: setting it works the group's secrets out again.
        if let app = fields.feishuApp { group.feishuApp = app }
        if let at = fields.feishuAppAt { group.fieldLocations["feishu_app"] = at }
        guard fields.fieldsHavePlaces else { return group }
        let named: [(String, GroupFields.Field?)] = [
            ("id", fields.id), ("sink", fields.sink), ("url", fields.url), ("name", fields.name),
            ("secret", fields.secret), ("keyword", fields.keyword), ("chat_id", fields.chatID),
            ("thread_id", fields.threadID), ("thread_name", fields.threadName), ("app", fields.app),
            ("owner", fields.owner), ("mention_all", fields.mentionAll), ("rate", fields.rate),
            ("format", fields.format),
        ]
        for case (let key, let field?) in named { group.fieldLocations[key] = field.at }
        // A bad tag is reported at the tag list, not at the group.
        if let at = fields.tagsAt ?? fields.tags?.at { group.fieldLocations["tags"] = at }
        return group
    }

    /// The tags of a `tags` text: split on `;` or `,`, trimmed, empty ones dropped. Split on bytes: both are ASCII,
    /// and splitting a `String` by `Character` breaks graphemes for every cell of a large file.
    static func tags(_ text: String?) -> [String] {
        guard let text else { return [] }
        return text.utf8.split(whereSeparator: { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ",") }).compactMap {
            let tag = String(Substring($0)).trimmingSpaces
            return tag.isEmpty ? nil : tag
        }
    }

    /// The `groups:` list of the YAML file.
    mutating func inlineGroups(_ node: Node, catalog: any SinkCatalog) -> [Group] {
        guard case .sequence(let sequence) = node else {
            error(location(node), "groups: expected a list of groups (each starting with '- id: …')")
            return []
        }
        var groups: [Group] = []
        for (index, item) in sequence.enumerated() {
            guard case .mapping(let mapping) = item else {
                error(location(item), "groups[\(index)]: expected a mapping with id, name, sink, url…")
                continue
            }
            var fields: [String: GroupFields.Field] = [:]
            var tagList: [String]?
            var tagsAt: SourceLocation?
            var feishuApp: FeishuApp?
            var feishuAppAt: SourceLocation?
            let groupEntries = entries(mapping, allowed: ConfigLoader.groupKeys, context: "groups[\(index)]")
            let present = Set(groupEntries.map(\.0))
            for (key, value) in groupEntries {
                let name = "groups[\(index)].\(key)"
                if key == "tags", case .sequence(let list) = value {
                    tagList = list.compactMap { string($0, name)?.0 }
                    tagsAt = location(value)
                    continue
                }
                if key == "tags", case .mapping = value {
                    error(location(value), "\(name): expected a list of tags")
                    continue
                }
                if key == "feishu_app" {
                    let at = keyLocation(key, in: mapping) ?? location(value)
                    feishuAppAt = at
                    feishuApp = self.feishuApp(value, name, at: at, catalog: catalog)
                    continue
                }
                let optional = ["secret", "keyword", "chat_id", "thread_id", "thread_name", "name", "tags"].contains(
                    key)
                let credential = key == "url" || key == "secret"
                if let (text, at) = string(value, name, optional: optional, credential: credential) {
                    fields[key] = GroupFields.Field(text: text, at: at)
                }
            }
            let at = location(item)
            guard let id = fields["id"] else {
                if !present.contains("id") { error(at, "groups[\(index)]: missing required key 'id'") }
                continue
            }
            // Every known sink but customer groups posts to a webhook; an unknown one is reported as such.
            let needsURL = fields["sink"].map { Self.needsURL(sink: $0.text, catalog: catalog) } ?? true
            for required in ["sink", "url"] where !present.contains(required) {
                if required == "url" && !needsURL { continue }
                error(at, "group \(id.text): missing required key '\(required)'")
            }
            guard let sink = fields["sink"] else { continue }
            let url = fields["url"]
            if url == nil && needsURL { continue }
            groups.append(
                group(
                    from: GroupFields(
                        at: at, id: id, sink: sink, url: url, name: fields["name"], secret: fields["secret"],
                        keyword: fields["keyword"], chatID: fields["chat_id"], threadID: fields["thread_id"],
                        threadName: fields["thread_name"],
                        mentionAll: fields["mention_all"],
                        rate: fields["rate"], format: fields["format"], app: fields["app"], owner: fields["owner"],
                        feishuApp: feishuApp, feishuAppAt: feishuAppAt, tags: fields["tags"], tagList: tagList,
                        tagsAt: tagsAt, fieldsHavePlaces: true)))
        }
        return groups
    }

    /// The groups file (CSV): one group per row, columns named by the header.
    mutating func csvGroups(
        path: String, named: String, at location: SourceLocation, catalog: any SinkCatalog
    ) -> [Group] {
        // The bytes only until they are text: a city's file is megabytes.
        let decoded = FileManager.default.contents(atPath: path).map(TextDecoding.decode)
        guard let decoded else {
            error(location, "groups_file: cannot read '\(named)' (looked for \(path))")
            return []
        }
        let text: String
        switch decoded {
        case .text(let decoded):
            text = decoded
        case .invalid(let line, _):
            error(
                SourceLocation(file: path, line: line),
                "groups file is not valid UTF-8 on this line: \(TextDecoding.advice)")
            return []
        }
        // Sized once, from the file's line count: grown by doubling, a large file's groups would briefly be held
        // twice.
        var groups: [Group] = []
        groups.reserveCapacity(text.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) })
        // Where each column is, looked up once for the file (at its first row) instead of by name in every row.
        var places: GroupsCSV.Places?
        let problems = GroupsCSV.forEachRow(text, file: path, expansion: expansion) { row in
            let columns = places ?? GroupsCSV.Places(row)
            places = columns
            let at = SourceLocation(file: path, line: row.line)
            func cell(_ position: Int?) -> GroupFields.Field? {
                row.nonEmptyCell(at: position).map { GroupFields.Field(text: $0, at: at) }
            }
            if row.credentialsUnset {
                unexpanded.insert(at)
                if expansion.credentials == .deferred {
                    let names = [columns.url, columns.secret].flatMap {
                        expansion.unsetNames(in: row.nonEmptyCell(at: $0) ?? "")
                    }
                    deferred.append(ConfigLoader.Deferred(location: at, field: "url", variables: names))
                }
            }
            guard let id = cell(columns.id) else {
                error(at, "id is empty")
                return
            }
            // Every known sink but customer groups posts to a webhook; an unknown one is reported as such.
            let url = cell(columns.url)
            guard let sink = cell(columns.sink), url != nil || !Self.needsURL(sink: sink.text, catalog: catalog) else {
                error(at, "group \(id.text): sink and url are required")
                return
            }
            groups.append(
                group(
                    from: GroupFields(
                        at: at, id: id, sink: sink, url: url, name: cell(columns.name), secret: cell(columns.secret),
                        keyword: cell(columns.keyword), chatID: cell(columns.chatID), threadID: cell(columns.threadID),
                        threadName: cell(columns.threadName),
                        mentionAll: cell(columns.mentionAll),
                        rate: cell(columns.rate), format: cell(columns.format), app: cell(columns.app),
                        owner: cell(columns.owner),
                        tags: cell(columns.tags), fieldsHavePlaces: false)))
        }
        diagnostics += problems
        return groups
    }

    /// Whether a group of this sink must have a `url`: every known one but customer groups. A sink that is not
    /// known is reported as such, not as a group without its URL.
    static func needsURL(sink: String, catalog: any SinkCatalog) -> Bool {
        sink != Group.customerGroupSink && catalog.sinkNames.contains(sink)
    }

    /// The apps a group names: a customer group's `app` must be in `wecom_apps`; `app` and `owner` are for
    /// customer groups only, a group's own `feishu_app` for Feishu and Lark groups only.
    /// Nothing is said of a group whose sink is unknown: it may be a customer group's misspelt.
    private mutating func appProblems(
        of group: Group, wecomApps: [String], catalog: any SinkCatalog, at: (String) -> SourceLocation?
    ) {
        guard catalog.sinkNames.contains(group.sink) else { return }
        if group.isCustomerGroup {
            if let app = group.app, !app.isEmpty, !wecomApps.contains(app) {
                let known =
                    wecomApps.isEmpty
                    ? "; the config has no wecom_apps"
                    : "\(KeySuggestion.hint(for: app, in: wecomApps)); one of \(wecomApps.joined(separator: ", "))"
                error(at("app"), "group \(group.id): app '\(app)' is not in wecom_apps\(known)")
            }
        } else {
            for (key, value) in [("app", group.app), ("owner", group.owner)] where value != nil {
                error(
                    at(key),
                    "group \(group.id): \(key) is for \(Group.customerGroupSink) groups; sink \(group.sink) has none")
            }
        }
        if group.fieldLocations["feishu_app"] != nil, !["feishu", "lark"].contains(group.sink) {
            error(
                at("feishu_app"),
                "group \(group.id): feishu_app is for feishu and lark groups; sink \(group.sink) has none")
        }
    }

    /// Validates ids, uniqueness, URLs, tags, each sink's own rules and the apps groups name (`wecomApps`, the ids
    /// of `wecom_apps`); returns the groups that passed.
    mutating func checked(_ groups: [Group], catalog: any SinkCatalog, wecomApps: [String] = []) -> [Group] {
        var firstByID: [String: SourceLocation] = [:]
        firstByID.reserveCapacity(groups.count)
        var invalid: Set<Int> = []
        for (index, group) in groups.enumerated() {
            let before = diagnostics.count
            func at(_ field: String) -> SourceLocation? { group.fieldLocations[field] ?? group.location }
            if !Group.isValidID(group.id) {
                error(
                    at("id"),
                    "group id '\(group.id)' is invalid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
                )
            }
            if let first = firstByID[group.id] {
                error(at("id"), "duplicate group id '\(group.id)' (first defined at \(first))")
            } else if let location = group.location {
                firstByID[group.id] = location
            }
            // A URL or secret whose variable is unset is not known yet: its rules are checked where it is used.
            let credentialsKnown = ![group.location, group.fieldLocations["url"], group.fieldLocations["secret"]]
                .contains { $0.map(unexpanded.contains) ?? false }
            if !catalog.sinkNames.contains(group.sink) {
                error(
                    at("sink"),
                    "group \(group.id): unknown sink '\(group.sink)'\(KeySuggestion.hint(for: group.sink, in: catalog.sinkNames)); one of \(catalog.sinkNames.joined(separator: ", "))"
                )
            } else if credentialsKnown || group.isCustomerGroup {
                for problem in catalog.problems(for: group) {
                    error(at(problem.field), "group \(group.id): \(problem.message)")
                }
            }
            if let thread = group.threadID {
                if group.sink != "telegram" {
                    error(
                        at("thread_id"),
                        "group \(group.id): thread_id is a Telegram forum topic; sink \(group.sink) has none")
                } else if Int64(thread).map({ $0 <= 0 }) ?? true {
                    error(
                        at("thread_id"),
                        "group \(group.id): thread_id: expected the topic's positive number, got '\(thread)'")
                }
            }
            appProblems(of: group, wecomApps: wecomApps, catalog: catalog, at: at)
            for tag in group.tags
            where tag.isEmpty || tag.unicodeScalars.contains(where: { $0.isSpace || $0 == "," || $0 == ":" }) {
                error(at("tags"), "group \(group.id): tag '\(tag)' may not contain spaces, ',' or ':'")
            }
            if diagnostics.count != before { invalid.insert(index) }
        }
        // The common case, every group valid, returns the array as it is rather than a copy of each group.
        if invalid.isEmpty { return groups }
        return groups.indices.filter { !invalid.contains($0) }.map { groups[$0] }
    }
}
