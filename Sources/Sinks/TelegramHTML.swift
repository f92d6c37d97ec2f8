import Foundation

/// Markdown as Telegram shows it with `parse_mode: HTML`: read with ``MarkdownText``'s rules, written in Telegram's
/// HTML subset (`docs/sinks.md`, "Markdown and text").
///
/// Bold and headings become `<b>`, italics `<i>`, strike-through `<s>`, code ticks `<code>`, a fenced block `<pre>`,
/// a link `<a href>`; every other `&`, `<` and `>` is escaped. Each text is rendered whole, so every tag it opens is
/// closed in it: a part of a split notice never ends inside a tag. The visible text (what Telegram's 4096-character
/// limit counts, after entities are parsed) is never longer than the markdown.
public enum TelegramHTML {
    /// `markdown` in Telegram's HTML subset.
    public static func html(_ markdown: String) -> String {
        var lines: [String] = []
        var fence: [String]?
        for raw in markdown.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = Substring(raw)
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                if let open = fence {
                    lines.append("<pre>" + open.joined(separator: "\n") + "</pre>")
                    fence = nil
                } else {
                    fence = []
                }
                continue
            }
            if fence != nil {
                fence?.append(escaped(line))
                continue
            }
            if MarkdownText.isRule(trimmed) { continue }
            let block = MarkdownText.block(line)
            let text = inline(block)
            lines.append(isHeading(trimmed) && !text.isEmpty ? "<b>\(text)</b>" : text)
        }
        // A fence the text never closes (a part cut from a longer notice) still closes its tag.
        if let open = fence { lines.append("<pre>" + open.joined(separator: "\n") + "</pre>") }
        return lines.joined(separator: "\n")
    }

    /// Whether a line (indent dropped) is a heading, as ``MarkdownText/block(_:)`` reads one.
    static func isHeading(_ line: Substring) -> Bool {
        var rest = line
        while rest.hasPrefix(">") { rest = rest.dropFirst().drop { $0 == " " } }
        let hashes = rest.prefix { $0 == "#" }
        return (1...6).contains(hashes.count) && rest.dropFirst(hashes.count).first == " "
    }

    /// Emphasis, code, links and escapes inside a line, as HTML.
    static func inline(_ line: Substring) -> String {
        let characters = Array(line)
        var output = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count, characters[index + 1].isASCII,
                characters[index + 1].isPunctuation || characters[index + 1].isSymbol
            {
                output += escaped(String(characters[index + 1]))
                index += 2
                continue
            }
            if character == "`", let close = characters[(index + 1)...].firstIndex(of: "`"), close > index + 1 {
                output += "<code>" + escaped(String(characters[(index + 1)..<close])) + "</code>"
                index = close + 1
                continue
            }
            if character == "[" || (character == "!" && index + 1 < characters.count && characters[index + 1] == "["),
                let link = MarkdownText.link(in: characters, at: character == "!" ? index + 1 : index)
            {
                let url = String(characters[link.url]).trimmingCharacters(in: .whitespaces)
                let text = inline(Substring(String(characters[link.text])))
                output += "<a href=\"\(escaped(url, quotes: true))\">\(text.isEmpty ? escaped(url) : text)</a>"
                index = link.end
                continue
            }
            if let run = MarkdownText.emphasis(in: characters, at: index) {
                let tag =
                    switch run.mark {
                    case "**", "__": "b"
                    case "~~": "s"
                    default: "i"
                    }
                output += "<\(tag)>" + inline(Substring(String(characters[run.inner]))) + "</\(tag)>"
                index = run.end
                continue
            }
            output += escaped(String(character))
            index += 1
        }
        return output
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
