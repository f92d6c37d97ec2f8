import Foundation
import GridcastCore

/// Turns a notice into the texts a group receives on its platform: title and body, markdown kept or turned into plain
/// text as the group's platform shows it, the group's custom keyword where the text lacks it, and, when the
/// platform's size limit forces a split, parts marked `(1/3)`, `(2/3)`… Limits apply to what the sink measures: the
/// rendered text, or the whole request body where the platform limits that.
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
        let text = body(of: notice, urgentPrefix: group.urgentPrefix) + links(of: notice, for: group, on: sink)
        return sink.rendersMarkdown(for: group) ? text : MarkdownText.plain(text)
    }

    /// What the text gains where the group's platform can't show the poster or the card: a line with the poster's
    /// `image_url`, a line with the card's title and address (docs/rich-notices.md, "Fallback").
    static func links(of notice: Notice, for group: Group, on sink: any Sink) -> String {
        var lines: [String] = []
        if let poster = notice.poster, let url = poster.url, case .notShown = sink.posterHandling(poster, for: group) {
            lines.append("海报：\(url)")
        }
        if let card = notice.link, sink.cardHandling(for: group) == .linkInText {
            lines.append(card.title.isEmpty ? card.url : "\(card.title)：\(card.url)")
        }
        return lines.isEmpty ? "" : "\n\n" + lines.joined(separator: "\n")
    }

    /// Every part `group` gets on `sink`, in the order they are sent: the text parts, then the poster, then the
    /// card, where the platform shows them as messages of their own (docs/rich-notices.md).
    public static func plan(of notice: Notice, for group: Group, on sink: any Sink) -> PlannedParts {
        var parts = self.parts(of: notice, for: group, on: sink).map { MessagePart.text($0) }
        var note: String?
        if let poster = notice.poster {
            switch sink.posterHandling(poster, for: group) {
            case .ownPart, .uploaded: parts.append(.poster(poster))
            case .withText: break
            case .notShown(let reason):
                note = "poster not shown: \(reason)" + (poster.url == nil ? "" : "; the text links its image_url")
            }
        }
        if let card = notice.link, sink.cardHandling(for: group) == .ownPart {
            parts.append(.card(card))
        }
        return PlannedParts(parts: parts, note: note)
    }

    /// The parts for `group` on `sink`, each within the sink's limit for the group as the sink measures it.
    public static func parts(of notice: Notice, for group: Group, on sink: any Sink) -> [String] {
        split(rendered(notice, for: group, on: sink), of: notice, for: group, on: sink)
    }

    /// The size `sink` counts against its limit for `text` sent as part `part` of `count` of `notice` to `group`:
    /// the whole request body where the platform limits the body (`docs/sinks.md`, "Limits and pacing").
    public static func measure(
        _ text: String, part: Int = 1, of count: Int = 1, notice: Notice, for group: Group, on sink: any Sink
    ) -> Int {
        sink.measure(
            OutgoingMessage(
                deliveryID: "", notice: notice, noticeCreatedAt: Date(timeIntervalSince1970: 0), group: group,
                part: part, partCount: count, text: text))
    }

    /// `text` with the group's keyword, split into parts that each measure within the sink's limit: one splitting
    /// path for every platform, whatever it counts. Lines are packed by what they add to the measured message (JSON
    /// escaping included), within what the limit leaves after the largest wrapping a part gets (the first part's
    /// mention, the keyword, a `(99/99) ` marker); the finished parts are measured again, and split tighter in the
    /// rare case one is still over.
    static func split(_ text: String, of notice: Notice, for group: Group, on sink: any Sink) -> [String] {
        let limit = sink.limit(for: group).value
        let keyword = group.keyword.flatMap { $0.isEmpty ? nil : $0 }
        let keywordPrefix = keyword.map { "【\($0)】" } ?? ""
        func withKeyword(_ part: String) -> String {
            guard let keyword, !part.contains(keyword) else { return part }
            return keywordPrefix + part
        }
        func size(_ part: String, _ index: Int, _ count: Int) -> Int {
            measure(part, part: index, of: count, notice: notice, for: group, on: sink)
        }
        let whole = withKeyword(text)
        if size(whole, 1, 1) <= limit { return [whole] }
        // What a piece of text adds to a part: measured as a later part's text (no mention), minus an empty one.
        let empty = size("", 2, 99)
        var budget = limit - size(keywordPrefix + "(99/99) ", 1, 99)
        var parts: [String] = []
        for _ in 0..<8 {
            let pieces = TextSplitter.split(text, budget: max(1, budget)) { size(String($0), 2, 99) - empty }
            parts = pieces.enumerated().map { index, piece in
                withKeyword("(\(index + 1)/\(pieces.count)) " + piece)
            }
            let over = parts.enumerated().map { size($1, $0 + 1, parts.count) - limit }.max() ?? 0
            if over <= 0 || budget <= 1 { break }
            budget -= over
        }
        return parts
    }
}

/// A notice's parts for one group, in sending order, and what the group won't see of it.
public struct PlannedParts: Sendable, Equatable {
    /// The parts, in the order they are sent.
    public var parts: [MessagePart]
    /// What the group gets short of the whole notice ("poster not shown: …"), or nil.
    public var note: String?

    /// The text parts alone.
    public var texts: [String] {
        parts.compactMap {
            if case .text(let text) = $0 { return text }
            return nil
        }
    }
}
