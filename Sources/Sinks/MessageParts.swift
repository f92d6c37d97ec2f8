import GridcastCore

/// Turns a notice into the texts a group receives on its platform: title and body, the group's custom keyword where
/// the text lacks it, and, when the platform's size limit forces a split, parts marked `(1/3)`, `(2/3)`…
public enum MessageParts {
    /// The full text before splitting.
    public static func body(of notice: Notice) -> String {
        let title = notice.urgent ? "【紧急】\(notice.title)" : notice.title
        if title.isEmpty { return notice.text }
        return "\(title)\n\n\(notice.text)"
    }

    /// The parts for `group` on `sink`, each within the sink's limit.
    public static func parts(of notice: Notice, for group: Group, limit: TextLimit) -> [String] {
        let text = body(of: notice)
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
