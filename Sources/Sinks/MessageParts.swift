import GridcastCore

/// Turns a notice into the texts a group receives on its platform: title and body, markdown kept or turned into plain
/// text as the group's platform shows it, the group's custom keyword where the text lacks it, and, when the
/// platform's size limit forces a split, parts marked `(1/3)`, `(2/3)`… Limits apply to the rendered text.
public enum MessageParts {
    /// The full text before rendering and splitting: the title (after `urgentPrefix` when urgent), a blank line, the
    /// text.
    public static func body(of notice: Notice, urgentPrefix: String = Group.defaultUrgentPrefix) -> String {
        let title = notice.urgent ? urgentPrefix + notice.title : notice.title
        if title.isEmpty { return notice.text }
        return "\(title)\n\n\(notice.text)"
    }

    /// The full text `group` sees before splitting: markdown kept where `sink` shows it to this group, plain text
    /// otherwise.
    public static func rendered(_ notice: Notice, for group: Group, on sink: any Sink) -> String {
        let text = body(of: notice, urgentPrefix: group.urgentPrefix)
        return sink.rendersMarkdown(for: group) ? text : MarkdownText.plain(text)
    }

    /// The parts for `group` on `sink`, each within the sink's limit for the group.
    public static func parts(of notice: Notice, for group: Group, on sink: any Sink) -> [String] {
        split(rendered(notice, for: group, on: sink), for: group, limit: sink.limit(for: group))
    }

    /// `text` with the group's keyword, split into parts within `limit`.
    public static func split(_ text: String, for group: Group, limit: TextLimit) -> [String] {
        let keyword = group.keyword.flatMap { $0.isEmpty ? nil : $0 }
        let keywordPrefix = keyword.map { "【\($0)】" } ?? ""
        func withKeyword(_ part: String) -> String {
            guard let keyword, !part.contains(keyword) else { return part }
            return keywordPrefix + part
        }
        if limit.measure(keywordPrefix) + limit.measure(text) <= limit.value {
            return [withKeyword(text)]
        }
        let budget = limit.value - limit.measure(keywordPrefix) - limit.measure("(99/99) ")
        let pieces = TextSplitter.split(text, budget: max(1, budget), limit: limit)
        return pieces.enumerated().map { index, piece in
            withKeyword("(\(index + 1)/\(pieces.count)) " + piece)
        }
    }
}
