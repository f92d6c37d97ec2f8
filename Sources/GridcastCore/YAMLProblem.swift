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
