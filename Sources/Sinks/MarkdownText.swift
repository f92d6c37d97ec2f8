/// Markdown as a chat group that does not render it should read it: the marks taken out, the words kept
/// (`docs/sinks.md`, "Markdown and text").
///
/// Bold, italics, strike-through and code ticks lose their marks; a heading loses its `#`s, a quote its `>`, a bullet
/// becomes `·`; a link `[text](url)` becomes `text url`, so the chat app still makes the address clickable; a
/// backslash escape gives its character. Numbered lists, line breaks and anything that is not markdown stay as
/// written. The reading is ``MarkdownReader``'s, shared with ``TelegramHTML``.
public enum MarkdownText {
    /// `markdown` as plain text.
    public static func plain(_ markdown: String) -> String {
        // Most notices hold no mark at all, and reading one character by character is a fan-out's largest cost per
        // delivery (it runs for each group at planning and at sending): text without a byte any rule starts with
        // reads as itself.
        guard markdown.utf8.contains(where: marks.contains) else { return markdown }
        return read(markdown)
    }

    /// The bytes every rule of ``MarkdownReader`` needs at least one of (a link's `!` needs its `[`), and the `\r`
    /// of a `\r\n` line end, which the reader turns into `\n`.
    static let marks = Set("\\`*_~#>[-+\r".utf8)

    /// `markdown` read by ``MarkdownReader``, with no shortcut.
    static func read(_ markdown: String) -> String {
        MarkdownReader.lines(markdown).map { line in
            switch line {
            case .fenced(let lines, _):
                lines.joined(separator: "\n")
            case .text(let indent, let bullet, _, let spans):
                indent + (bullet ? "· " : "") + text(spans)
            }
        }.joined(separator: "\n")
    }

    /// Spans as their words.
    static func text(_ spans: [MarkdownReader.Span]) -> String {
        spans.map { span in
            switch span {
            case .text(let words), .code(let words):
                words
            case .link(let label, let url):
                text(label).isEmpty || text(label) == url ? url : "\(text(label)) \(url)"
            case .emphasis(_, let inner):
                text(inner)
            }
        }.joined()
    }
}
