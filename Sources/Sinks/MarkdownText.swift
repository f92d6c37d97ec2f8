import Foundation

/// Markdown as a chat group that does not render it should read it: the marks taken out, the words kept
/// (`docs/sinks.md`, "Markdown and text").
///
/// Bold, italics, strike-through and code ticks lose their marks; a heading loses its `#`s, a quote its `>`, a bullet
/// becomes `·`; a link `[text](url)` becomes `text url`, so the chat app still makes the address clickable; a
/// backslash escape gives its character. Numbered lists, line breaks and anything that is not markdown stay as
/// written. ``TelegramHTML`` reads markdown with the same rules and writes Telegram's HTML instead.
public enum MarkdownText {
    /// `markdown` as plain text.
    public static func plain(_ markdown: String) -> String {
        var lines: [String] = []
        var inFence = false
        for raw in markdown.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = Substring(raw)
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                inFence.toggle()
                continue
            }
            if inFence {
                lines.append(String(line))
                continue
            }
            if isRule(trimmed) { continue }
            lines.append(inline(block(line)))
        }
        return lines.joined(separator: "\n")
    }

    /// A line's block marks: heading, quote, bullet.
    static func block(_ line: Substring) -> Substring {
        let indent = line.prefix { $0 == " " }
        var rest = line.dropFirst(indent.count)
        while rest.hasPrefix(">") {
            rest = rest.dropFirst().drop { $0 == " " }
        }
        let hashes = rest.prefix { $0 == "#" }
        if (1...6).contains(hashes.count), rest.dropFirst(hashes.count).first == " " {
            return rest.dropFirst(hashes.count + 1)
        }
        if let first = rest.first, "-*+".contains(first), rest.dropFirst().first == " " {
            return indent + "· " + rest.dropFirst(2)
        }
        return indent + rest
    }

    /// `---`, `***`, `___` (three or more, spaces allowed) alone on a line.
    static func isRule(_ line: Substring) -> Bool {
        let marks = line.filter { $0 != " " }
        guard let first = marks.first, "-*_".contains(first), marks.count >= 3 else { return false }
        return marks.allSatisfy { $0 == first }
    }

    /// Emphasis, code, links and escapes inside a line.
    static func inline(_ line: Substring) -> String {
        let characters = Array(line)
        var output = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count, characters[index + 1].isASCII,
                characters[index + 1].isPunctuation || characters[index + 1].isSymbol
            {
                output.append(characters[index + 1])
                index += 2
                continue
            }
            if character == "`", let close = characters[(index + 1)...].firstIndex(of: "`"), close > index + 1 {
                output += String(characters[(index + 1)..<close])
                index = close + 1
                continue
            }
            if character == "[" || (character == "!" && index + 1 < characters.count && characters[index + 1] == "["),
                let link = link(in: characters, at: character == "!" ? index + 1 : index)
            {
                let text = inline(Substring(String(characters[link.text])))
                let url = String(characters[link.url]).trimmingCharacters(in: .whitespaces)
                output += text.isEmpty || text == url ? url : "\(text) \(url)"
                index = link.end
                continue
            }
            if let run = emphasis(in: characters, at: index) {
                output += inline(Substring(String(characters[run.inner])))
                index = run.end
                continue
            }
            output.append(character)
            index += 1
        }
        return output
    }

    /// `[text](url)` starting at `start` (the `[`).
    static func link(in characters: [Character], at start: Int) -> (text: Range<Int>, url: Range<Int>, end: Int)? {
        var depth = 0
        var close: Int?
        for position in start..<characters.count {
            if characters[position] == "[" { depth += 1 }
            if characters[position] == "]" {
                depth -= 1
                if depth == 0 {
                    close = position
                    break
                }
            }
        }
        guard let close, close + 1 < characters.count, characters[close + 1] == "(",
            let end = characters[(close + 2)...].firstIndex(of: ")"), end > close + 2
        else { return nil }
        return (start + 1..<close, close + 2..<end, end + 1)
    }

    /// `**x**`, `__x__`, `~~x~~`, `*x*` starting at `start`: the marks must hug the text (`2 * 3 * 4` is left alone),
    /// and underscores inside a word (`snake_case`) are not marks.
    static func emphasis(in characters: [Character], at start: Int) -> (inner: Range<Int>, end: Int, mark: String)? {
        for mark in ["**", "__", "~~", "*"] {
            let marks = Array(mark)
            guard start + 2 * marks.count < characters.count,
                Array(characters[start..<(start + marks.count)]) == marks
            else { continue }
            let open = start + marks.count
            guard !characters[open].isWhitespace, characters[open] != marks[0] else { continue }
            if marks[0] == "_", start > 0, characters[start - 1].isLetter || characters[start - 1].isNumber {
                continue
            }
            var position = open + 1
            while position + marks.count <= characters.count {
                if Array(characters[position..<(position + marks.count)]) == marks,
                    !characters[position - 1].isWhitespace
                {
                    let after = position + marks.count
                    if marks[0] == "_", after < characters.count,
                        characters[after].isLetter || characters[after].isNumber
                    {
                        position += 1
                        continue
                    }
                    return (open..<position, after, mark)
                }
                position += 1
            }
        }
        return nil
    }
}
