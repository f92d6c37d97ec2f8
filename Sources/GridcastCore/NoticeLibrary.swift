import Foundation
import Yams

/// The notices a daemon's schedules draw from: one Markdown file per notice, with YAML front matter.
///
/// ```markdown
/// ---
/// id: five-donts          # required
/// title: 牢记“五不”       # optional
/// to: tag:elderly         # optional: only these groups get it in a next-unsent rotation
/// date: 2026-12-01        # optional: the notice for that day (`pick: dated`)
/// urgent: false           # optional
/// image: posters/96110.png # optional: a PNG or JPEG poster, relative to this file
/// image_url: https://…    # optional: the same poster's public address
/// link: {url: https://…, title: …, description: …, picurl: https://…}  # optional: a link card
/// ---
/// 正文……
/// ```
///
/// Notices are ordered by file name: `next-unsent` gives each group the first one it has never had.
public struct NoticeLibrary: Sendable {
    /// One notice of the library.
    public struct Entry: Sendable, Hashable {
        /// The notice.
        public var notice: Notice
        /// The file it came from (its name orders the rotation).
        public var file: String
        /// Who may receive it in a rotation; nil for everyone.
        public var selector: Selector?
        /// The day it is for, `YYYY-MM-DD`, when dated.
        public var date: String?
        /// Where `to:` was written, for an audience that names an unknown group or tag.
        public var selectorLocation: SourceLocation?

        /// Creates an entry.
        public init(notice: Notice, file: String, selector: Selector? = nil, date: String? = nil) {
            self.notice = notice
            self.file = file
            self.selector = selector
            self.date = date
        }

        /// The ids of the groups its `to:` selects among `groups` (all of them without `to:`); nil when `to:` names a
        /// group or tag that `groups` lack: such a notice goes to nobody rather than to the wrong audience.
        public func audience(in groups: [Group]) -> Set<String>? {
            guard let selector else { return Set(groups.map(\.id)) }
            return (try? selector.resolve(in: groups)).map { Set($0.map(\.id)) }
        }
    }

    static let keys = ["id", "title", "to", "date", "urgent", "image", "image_url", "link"]
    static let linkKeys = ["url", "title", "description", "picurl"]

    /// The notices in file-name order.
    public var entries: [Entry]
    /// The directory the notices were read from (`notices.dir`, resolved), when read from one.
    public var directory: String?

    /// An empty library.
    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// The entry with this id.
    public func entry(_ id: String) -> Entry? {
        entries.first { $0.notice.id == id }
    }

    /// One warning per notice whose `to:` names a group or tag none of `groups` has: a library serves many
    /// communities, so such a notice is not an error; it leaves the rotation of this config (``Entry/audience(in:)``).
    public func audienceWarnings(groups: [Group]) -> [Diagnostic] {
        entries.compactMap { entry -> Diagnostic? in
            guard let selector = entry.selector else { return nil }
            do throws(Selector.Failure) {
                _ = try selector.resolve(in: groups)
                return nil
            } catch {
                return Diagnostic(
                    entry.selectorLocation ?? SourceLocation(file: entry.file, line: 1),
                    "to: \(error.message): notice '\(entry.notice.id)' is left out of this config's schedules")
            }
        }
    }

    /// Reads every `*.md` file of `directory`; every problem is reported with its `FILE:LINE:COL`.
    public static func load(directory: String, environment: EnvironmentExpansion) -> (NoticeLibrary, [Diagnostic]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            return (NoticeLibrary(), [Diagnostic(nil, "notices.dir: cannot read directory \(directory)")])
        }
        var entries: [Entry] = []
        var diagnostics: [Diagnostic] = []
        var seen: [String: String] = [:]
        for name in names.filter({ $0.hasSuffix(".md") }).sorted() {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                diagnostics.append(Diagnostic(SourceLocation(file: path, line: 1, column: 1), "cannot read the file"))
                continue
            }
            let text: String
            switch TextDecoding.decode(data) {
            case .text(let decoded):
                text = decoded
            case .invalid(let line, let column):
                diagnostics.append(
                    Diagnostic(
                        SourceLocation(file: path, line: line, column: column),
                        "not valid UTF-8 here: \(TextDecoding.advice)"))
                continue
            }
            switch parse(text, file: path) {
            case .success(let entry):
                if let first = seen[entry.notice.id] {
                    diagnostics.append(
                        Diagnostic(
                            SourceLocation(file: path, line: 2, column: 1),
                            "duplicate notice id '\(entry.notice.id)' (also in \(first))")
                    )
                } else {
                    seen[entry.notice.id] = name
                    entries.append(entry)
                }
            case .failure(let problems):
                diagnostics += problems.diagnostics
            }
        }
        var library = NoticeLibrary(entries: entries)
        library.directory = directory
        return (library, diagnostics)
    }

    /// Parses one notice file. `requireID` false reads a file for `gridcast send --file`, whose `id:` may be left
    /// out (the notice's id is then derived); the entry's id is empty then.
    public static func parse(_ text: String, file: String, requireID: Bool = true) -> Result<Entry, ConfigError> {
        func problem(_ line: Int, _ column: Int, _ message: String) -> Result<Entry, ConfigError> {
            .failure(ConfigError([Diagnostic(SourceLocation(file: file, line: line, column: column), message)]))
        }
        // Lines end in LF or CRLF (Windows editors). `"\r\n"` is one `Character` in Swift, not `"\n"`, so both are
        // separators; the text is joined back with LF.
        var lines = TextDecoding.withoutByteOrderMark(text).split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard lines.first == "---" else {
            return problem(1, 1, "a notice starts with front matter: a line '---', id: …, and another '---'")
        }
        lines.removeFirst()
        guard let end = lines.firstIndex(of: "---") else {
            return problem(1, 1, "front matter is never closed with a line '---'")
        }
        let front = lines[..<end].joined(separator: "\n")
        let body = lines[(end + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let node: Node?
        do {
            node = try Yams.compose(yaml: front)
        } catch let error as YamlError {
            // The front matter starts on the file's second line.
            let found = YAMLProblem(error, yaml: front, lineOffset: 1)
            return problem(found.line, found.column, found.message)
        } catch {
            return problem(2, 1, "invalid YAML front matter")
        }
        guard let node, case .mapping(let mapping) = node else {
            return problem(2, 1, "front matter must be a mapping with at least id:")
        }
        var fields: [String: (String, Int, Int)] = [:]
        var problems: [Diagnostic] = []
        var link: LinkCard?
        for (key, value) in mapping {
            let line = (key.mark?.line ?? 1) + 1
            let column = key.mark?.column ?? 1
            guard let name = key.string, keys.contains(name) else {
                let name = key.string ?? "?"
                problems.append(
                    Diagnostic(
                        SourceLocation(file: file, line: line, column: column),
                        "unknown front matter key '\(name)'\(KeySuggestion.hint(for: name, in: keys))"
                    )
                )
                continue
            }
            if name == "link" {
                switch parseLink(value, file: file, at: SourceLocation(file: file, line: line, column: column)) {
                case .success(let card): link = card
                case .failure(let error): problems += error.diagnostics
                }
                continue
            }
            guard let scalar = value.string else {
                problems.append(
                    Diagnostic(
                        SourceLocation(file: file, line: line, column: column), "\(name): expected a single value"))
                continue
            }
            fields[name] = (scalar, (value.mark?.line ?? 1) + 1, value.mark?.column ?? 1)
        }
        func at(_ key: String) -> SourceLocation {
            SourceLocation(file: file, line: fields[key]?.1 ?? 2, column: fields[key]?.2 ?? 1)
        }
        let id = fields["id"]?.0 ?? ""
        if fields["id"] == nil {
            if requireID {
                problems.append(
                    Diagnostic(SourceLocation(file: file, line: 2, column: 1), "front matter lacks the required id:"))
            }
        } else if !Notice.isValidID(id) {
            problems.append(Diagnostic(at("id"), "id '\(id)' is invalid: use letters, digits, '.', '_', '-' or ':'"))
        }
        var selector: Selector?
        if let to = fields["to"]?.0 {
            do { selector = try Selector(parsing: to) } catch {
                problems.append(Diagnostic(at("to"), "to: \(error.message)"))
            }
        }
        if let date = fields["date"]?.0, LocalDay(parsing: date, timeZone: TimeZone(identifier: "UTC")!) == nil {
            problems.append(Diagnostic(at("date"), "date: expected YYYY-MM-DD, got '\(date)'"))
        }
        if let title = fields["title"]?.0, title.count > NoticeBody.maxTitleLength {
            problems.append(
                Diagnostic(
                    at("title"),
                    "title is longer than \(NoticeBody.maxTitleLength) characters; put the details in the text"))
        }
        var urgent = false
        if let flag = fields["urgent"]?.0 {
            switch flag.lowercased() {
            case "true", "yes": urgent = true
            case "false", "no": urgent = false
            default: problems.append(Diagnostic(at("urgent"), "urgent: expected true or false, got '\(flag)'"))
            }
        }
        var poster: Poster?
        if let image = fields["image"]?.0 {
            let path =
                image.hasPrefix("/")
                ? image : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(image)
            if let data = FileManager.default.contents(atPath: path) {
                switch Notice.makePoster(bytes: [UInt8](data), url: fields["image_url"]?.0) {
                case .success(let loaded): poster = loaded
                case .failure(let failure):
                    let key = failure.message.hasPrefix("image_url:") ? "image_url" : "image"
                    let message = key == "image" ? "image: \(image): \(failure.message)" : failure.message
                    problems.append(Diagnostic(at(key), message))
                }
            } else {
                problems.append(Diagnostic(at("image"), "image: cannot read \(path)"))
            }
        } else if fields["image_url"] != nil {
            problems.append(
                Diagnostic(at("image_url"), "image_url is the address of the poster: give the poster as image: too"))
        }
        if body.isEmpty {
            problems.append(
                Diagnostic(
                    SourceLocation(file: file, line: end + 3, column: 1),
                    "the notice has no text after its front matter"))
        }
        guard problems.isEmpty else { return .failure(ConfigError(problems)) }
        let notice = Notice(
            id: id, title: fields["title"]?.0 ?? "", text: body, urgent: urgent, poster: poster, link: link)
        var entry = Entry(
            notice: notice, file: (file as NSString).lastPathComponent, selector: selector, date: fields["date"]?.0)
        entry.selectorLocation = fields["to"] == nil ? nil : at("to")
        return .success(entry)
    }

    /// Reads `link: {url, title, description, picurl}`: url and title required, addresses https; `at` is the key's
    /// place, for a missing field.
    static func parseLink(_ node: Node, file: String, at: SourceLocation) -> Result<LinkCard, ConfigError> {
        guard case .mapping(let mapping) = node else {
            return .failure(ConfigError([Diagnostic(at, "link: expected {url, title, description, picurl}")]))
        }
        var values: [String: (String, SourceLocation)] = [:]
        var problems: [Diagnostic] = []
        for (key, value) in mapping {
            let place = SourceLocation(
                file: file, line: (key.mark?.line ?? 1) + 1, column: key.mark?.column ?? 1)
            guard let name = key.string, linkKeys.contains(name) else {
                let name = key.string ?? "?"
                problems.append(
                    Diagnostic(place, "unknown link key '\(name)'\(KeySuggestion.hint(for: name, in: linkKeys))"))
                continue
            }
            guard let scalar = value.string else {
                problems.append(Diagnostic(place, "link.\(name): expected a single value"))
                continue
            }
            let valuePlace = SourceLocation(
                file: file, line: (value.mark?.line ?? 1) + 1, column: value.mark?.column ?? 1)
            values[name] = (scalar, valuePlace)
        }
        for required in ["url", "title"] where values[required] == nil {
            problems.append(Diagnostic(at, "link: lacks the required \(required):"))
        }
        for name in ["url", "picurl"] {
            if let (address, place) = values[name], let problem = Notice.addressProblem(address) {
                problems.append(Diagnostic(place, "link.\(name): \(problem)"))
            }
        }
        guard problems.isEmpty, let url = values["url"]?.0, let title = values["title"]?.0 else {
            return .failure(ConfigError(problems))
        }
        return .success(
            LinkCard(
                url: url, title: title, description: values["description"]?.0 ?? "", pictureURL: values["picurl"]?.0))
    }
}
