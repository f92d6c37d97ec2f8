import Foundation

/// Markdown read once, for every way a sink shows it (`docs/sinks.md`, "Markdown and text"): lines of inline spans,
/// which ``MarkdownText`` writes as plain text and ``TelegramHTML`` as Telegram's HTML subset.
///
/// What is read: fenced blocks (```` ``` ```` or `~~~`), `---`/`***`/`___` rules, headings (`#`…`######`), quotes
/// (`>`), bullets (`-`, `*`, `+`); inside a line, backslash escapes, code ticks, links `[text](url)` (and images
/// `![text](url)`), and `**strong**`, `__strong__`, `~~strike~~`, `*emphasis*` whose marks hug their text — so
/// `2 * 3 * 4` and `snake_case` stay as written.
enum MarkdownReader {
    /// Inline content.
    enum Span: Equatable {
        /// Words as written (escapes resolved).
        case text(String)
        /// `code` between ticks.
        case code(String)
        /// A link or image: its text, and its address.
        case link(text: [Span], url: String)
        /// Emphasis of a kind around its content.
        case emphasis(Emphasis, [Span])
    }

    /// The kinds of emphasis.
    enum Emphasis: Equatable {
        case strong, italic, strike
    }

    /// One line of the text, or a fenced block.
    enum Line: Equatable {
        /// A line: its indent, whether it is a bullet or a heading, and its spans.
        case text(indent: String, bullet: Bool, heading: Bool, spans: [Span])
        /// The lines of a fenced block as written; `closed` false when the text ends inside it (a part cut from a
        /// longer notice).
        case fenced([String], closed: Bool)
    }

    /// The lines of `markdown`; rules are dropped.
    static func lines(_ markdown: String) -> [Line] {
        var lines: [Line] = []
        var fence: [String]?
        for raw in markdown.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = Substring(raw)
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                if let open = fence {
                    lines.append(.fenced(open, closed: true))
                    fence = nil
                } else {
                    fence = []
                }
                continue
            }
            if fence != nil {
                fence?.append(String(line))
                continue
            }
            if isRule(trimmed) { continue }
            lines.append(block(line))
        }
        if let open = fence { lines.append(.fenced(open, closed: false)) }
        return lines
    }

    /// A line's block marks (heading, quote, bullet) and its spans.
    static func block(_ line: Substring) -> Line {
        let indent = String(line.prefix { $0 == " " })
        var rest = line.dropFirst(indent.count)
        while rest.hasPrefix(">") {
            rest = rest.dropFirst().drop { $0 == " " }
        }
        let hashes = rest.prefix { $0 == "#" }
        if (1...6).contains(hashes.count), rest.dropFirst(hashes.count).first == " " {
            return .text(indent: "", bullet: false, heading: true, spans: spans(rest.dropFirst(hashes.count + 1)))
        }
        if let first = rest.first, "-*+".contains(first), rest.dropFirst().first == " " {
            return .text(indent: indent, bullet: true, heading: false, spans: spans(rest.dropFirst(2)))
        }
        return .text(indent: indent, bullet: false, heading: false, spans: spans(rest))
    }

    /// `---`, `***`, `___` (three or more, spaces allowed) alone on a line.
    static func isRule(_ line: Substring) -> Bool {
        let marks = line.filter { $0 != " " }
        guard let first = marks.first, "-*_".contains(first), marks.count >= 3 else { return false }
        return marks.allSatisfy { $0 == first }
    }

    /// The spans of a line.
    static func spans(_ line: Substring) -> [Span] {
        let characters = Array(line)
        var read: [Span] = []
        var words = ""
        func flush() {
            if !words.isEmpty { read.append(.text(words)) }
            words = ""
        }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count, characters[index + 1].isASCII,
                characters[index + 1].isPunctuation || characters[index + 1].isSymbol
            {
                words.append(characters[index + 1])
                index += 2
                continue
            }
            if character == "`", let close = characters[(index + 1)...].firstIndex(of: "`"), close > index + 1 {
                flush()
                read.append(.code(String(characters[(index + 1)..<close])))
                index = close + 1
                continue
            }
            if character == "[" || (character == "!" && index + 1 < characters.count && characters[index + 1] == "["),
                let link = link(in: characters, at: character == "!" ? index + 1 : index)
            {
                flush()
                let url = String(characters[link.url]).trimmingCharacters(in: .whitespaces)
                read.append(.link(text: spans(Substring(String(characters[link.text]))), url: url))
                index = link.end
                continue
            }
            if let run = emphasis(in: characters, at: index) {
                flush()
                read.append(.emphasis(run.kind, spans(Substring(String(characters[run.inner])))))
                index = run.end
                continue
            }
            words.append(character)
            index += 1
        }
        flush()
        return read
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
    static func emphasis(in characters: [Character], at start: Int) -> (inner: Range<Int>, end: Int, kind: Emphasis)? {
        for (mark, kind) in [("**", Emphasis.strong), ("__", .strong), ("~~", .strike), ("*", .italic)] {
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
                    return (open..<position, after, kind)
                }
                position += 1
            }
        }
        return nil
    }
}
