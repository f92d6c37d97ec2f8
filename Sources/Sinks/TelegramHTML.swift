import Foundation

/// Markdown as Telegram shows it with `parse_mode: HTML`: read by ``MarkdownReader`` (as for plain text), written in Telegram's
/// HTML subset (`docs/sinks.md`, "Markdown and text").
///
/// Bold and headings become `<b>`, italics `<i>`, strike-through `<s>`, code ticks `<code>`, a fenced block `<pre>`,
/// a link `<a href>`; every other `&`, `<` and `>` is escaped. Each text is rendered whole, so every tag it opens is
/// closed in it: a part of a split notice never ends inside a tag. The visible text (what Telegram's 4096-character
/// limit counts, after entities are parsed) is never longer than the markdown.
public enum TelegramHTML {
    /// `markdown` in Telegram's HTML subset.
    public static func html(_ markdown: String) -> String {
        MarkdownReader.lines(markdown).map { line in
            switch line {
            // A fence the text never closes (a part cut from a longer notice) still closes its tag.
            case .fenced(let lines, _):
                "<pre>" + lines.map { escaped($0) }.joined(separator: "\n") + "</pre>"
            case .text(let indent, let bullet, let heading, let spans):
                heading && !spans.isEmpty
                    ? "<b>\(html(spans))</b>" : indent + (bullet ? "· " : "") + html(spans)
            }
        }.joined(separator: "\n")
    }

    /// Spans as HTML.
    static func html(_ spans: [MarkdownReader.Span]) -> String {
        spans.map { span in
            switch span {
            case .text(let words):
                escaped(words)
            case .code(let code):
                "<code>" + escaped(code) + "</code>"
            case .link(let label, let url):
                "<a href=\"\(escaped(url, quotes: true))\">\(label.isEmpty ? escaped(url) : html(label))</a>"
            case .emphasis(let kind, let inner):
                switch kind {
                case .strong: "<b>\(html(inner))</b>"
                case .italic: "<i>\(html(inner))</i>"
                case .strike: "<s>\(html(inner))</s>"
                }
            }
        }.joined()
    }

    /// `text` with `&`, `<` and `>` (and `"` in an attribute) as entities, the only escapes Telegram requires.
    public static func escaped<S: StringProtocol>(_ text: S, quotes: Bool = false) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"" where quotes: escaped += "&quot;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
