import Yams

/// A Yams parse error as a message and a place in the file, shared by the config and the notice front matter.
///
/// `lineOffset` is how many lines of the file precede the YAML text (1 for front matter, after its `---`).
struct YAMLProblem {
    /// 1-based line in the file.
    var line: Int
    /// 1-based column.
    var column: Int
    /// What is wrong.
    var message: String

    /// The problem for `error`, which Yams raised reading `yaml`.
    init(_ error: YamlError, yaml: String, lineOffset: Int = 0) {
        func context(_ context: YamlError.Context?) -> String {
            guard let context, !context.text.isEmpty else { return "" }
            return " (\(context.text) at line \(context.mark.line + lineOffset), column \(context.mark.column))"
        }
        switch error {
        case .scanner(let why, let problem, let mark, _), .parser(let why, let problem, let mark, _),
            .composer(let why, let problem, let mark, _):
            self.init(line: mark.line + lineOffset, column: mark.column, "invalid YAML: \(problem)\(context(why))")
        case .duplicatedKeysInMapping(let duplicates, let why):
            // Yams marks the first use of the key; the repeat is the next line that starts the same key at the same
            // column, which is what a person looks for.
            let key = duplicates.first ?? "?"
            let first = why.mark
            if let again = Self.repeatLine(of: key, after: first.line, column: first.column, in: yaml) {
                self.init(
                    line: again + lineOffset, column: first.column,
                    "key '\(key)' repeats the one at line \(first.line + lineOffset)")
            } else {
                self.init(
                    line: first.line + lineOffset, column: first.column, "key '\(key)' is written twice in this mapping"
                )
            }
        case .reader(let problem, _, _, _):
            self.init(line: 1 + lineOffset, column: 1, "invalid YAML: \(problem)")
        default:
            self.init(line: 1 + lineOffset, column: 1, "invalid YAML")
        }
    }

    private init(line: Int, column: Int, _ message: String) {
        self.line = max(line, 1)
        self.column = max(column, 1)
        self.message = message
    }

    /// The first line after `line` whose text at `column` (in Unicode scalars) is `key:`.
    static func repeatLine(of key: String, after line: Int, column: Int, in yaml: String) -> Int? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line < lines.count, column >= 1 else { return nil }
        for index in line..<lines.count {
            let scalars = lines[index].unicodeScalars
            guard scalars.count >= column else { continue }
            let rest = Substring(scalars.dropFirst(column - 1))
            if rest.hasPrefix(key + ":") { return index + 1 }
        }
        return nil
    }
}

extension YAMLProblem {
    /// Full-width (全角) punctuation where YAML needs the ASCII sign, as a Chinese input method types it: a key
    /// followed by `：`, indentation with `　`, a list item marked `－ `, a comment marked `＃`, a flow list in
    /// `［…］` or separated by `，`. Each is reported at its own line and column (in Unicode scalars). Text inside
    /// quotes, comments and block scalars (`|`, `>`) is left alone: there these signs are just text.
    static func fullWidthPunctuation(in yaml: String, lineOffset: Int = 0) -> [YAMLProblem] {
        var problems: [YAMLProblem] = []
        var blockIndent: Int?
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let scalars = Array(line.unicodeScalars)
            let indent = scalars.prefix { $0 == " " || $0 == "\t" }.count
            if let block = blockIndent {
                if indent > block || scalars.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
                blockIndent = nil
            }
            func report(_ column: Int, _ message: String) {
                problems.append(YAMLProblem(line: index + 1 + lineOffset, column: column + 1, message))
            }
            if let space = scalars.prefix(while: { $0 == " " || $0 == "\t" || $0 == "\u{3000}" }).firstIndex(
                of: "\u{3000}")
            {
                report(space, "全角空格 '\u{3000}' in the indentation — use ASCII spaces")
                continue
            }
            var position = indent
            // List markers, ASCII or full-width.
            while position < scalars.count {
                if scalars[position] == "-", position + 1 < scalars.count, scalars[position + 1] == " " {
                    position += 2
                } else if scalars[position] == "\u{FF0D}" {
                    report(position, "全角减号 '－' — use '-' to start a list item")
                    position += 1
                } else {
                    break
                }
                while position < scalars.count, scalars[position] == " " { position += 1 }
            }
            guard position < scalars.count else { continue }
            if scalars[position] == "\u{FF03}" {
                report(position, "全角井号 '＃' — use '#' to start a comment")
                continue
            }
            // A plain ASCII key, then `：` or `:`.
            var end = position
            while end < scalars.count, scalars[end].isASCII,
                scalars[end].properties.isAlphabetic || ("0"..."9").contains(scalars[end])
                    || "_.-".unicodeScalars
                        .contains(scalars[end])
            {
                end += 1
            }
            guard end > position else { continue }
            var colon = end
            while colon < scalars.count, scalars[colon] == " " { colon += 1 }
            guard colon < scalars.count else { continue }
            if scalars[colon] == "\u{FF1A}" {
                report(
                    colon,
                    "全角冒号 '：' — use ':' after the key '\(String(String.UnicodeScalarView(scalars[position..<end])))'")
                continue
            }
            guard scalars[colon] == ":" else { continue }
            var value = colon + 1
            while value < scalars.count, scalars[value] == " " { value += 1 }
            guard value < scalars.count else { continue }
            switch scalars[value] {
            case "|", ">":
                blockIndent = indent
            case "\u{FF3B}", "\u{FF5B}":
                report(value, "全角括号 '\(scalars[value])' — use '\(scalars[value] == "\u{FF3B}" ? "[" : "{")'")
            case "[":
                // A flow list written with full-width commas is one long item otherwise.
                var inQuote: Unicode.Scalar?
                for column in (value + 1)..<scalars.count {
                    let scalar = scalars[column]
                    if let quote = inQuote {
                        if scalar == quote { inQuote = nil }
                    } else if scalar == "'" || scalar == "\"" {
                        inQuote = scalar
                    } else if scalar == "]" || scalar == "#" {
                        break
                    } else if scalar == "\u{FF0C}" {
                        report(column, "全角逗号 '，' in a list — use ','")
                    } else if scalar == "\u{FF3D}" {
                        report(column, "全角括号 '］' — use ']'")
                    }
                }
            default:
                break
            }
        }
        return problems
    }
}
