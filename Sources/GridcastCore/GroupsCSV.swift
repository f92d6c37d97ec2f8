/// Reads a `groups_file`: CSV with a header row naming its columns (`id,name,sink,url,secret,keyword,tags`,
/// optionally `chat_id`, `thread_id`, `thread_name`, `mention_all`, `rate`, `format`, and a customer group's `app`
/// and `owner`), tags separated by `;`. A file of customer groups only may leave out `url`.
/// Quoted fields may hold commas, quotes (`""`) and line breaks; errors name the physical line where the record
/// starts.
public struct GroupsCSV {
    /// Columns a groups file may have.
    public static let columns = [
        "id", "name", "sink", "url", "secret", "keyword", "tags", "chat_id", "thread_id", "thread_name", "mention_all",
        "rate", "format", "app", "owner",
    ]
    /// Columns it must have; `url` too unless every row is a customer group.
    public static let requiredColumns = ["id", "sink"]

    /// One data row: its starting line and its cells.
    public struct Row: Sendable {
        /// The physical line the record starts on.
        public var line: Int
        /// Cells in header order, env-expanded.
        var cells: [String]
        /// Column positions by name, shared by every row of a file.
        var columns: [String: Int]
        /// Whether a credential cell (url, secret) names an unset variable and was kept as written: the row's
        /// group can't be sent to, and its URL rules are not checked.
        var credentialsUnset = false

        /// The cell at a position from ``position(of:)``, nil for nil (no such column) or an empty cell.
        func nonEmptyCell(at position: Int?) -> String? {
            guard let position, !cells[position].isEmpty else { return nil }
            return cells[position]
        }

        /// Where a column is in this file's rows: looked up once per file, not by name in every row.
        func position(of column: String) -> Int? {
            columns[column]
        }
    }

    /// Where each column is in a file's rows, looked up once for the file.
    public struct Places: Sendable {
        public let id, name, sink, url, secret, keyword, tags, chatID, threadID, threadName, mentionAll: Int?
        public let rate, format, app, owner: Int?

        /// The places of `row`'s file.
        public init(_ row: Row) {
            (id, name, sink, url, secret) = (
                row.position(of: "id"), row.position(of: "name"), row.position(of: "sink"), row.position(of: "url"),
                row.position(of: "secret")
            )
            (keyword, tags, chatID, threadID, threadName) = (
                row.position(of: "keyword"), row.position(of: "tags"), row.position(of: "chat_id"),
                row.position(of: "thread_id"), row.position(of: "thread_name")
            )
            (mentionAll, rate, format, app, owner) = (
                row.position(of: "mention_all"), row.position(of: "rate"), row.position(of: "format"),
                row.position(of: "app"), row.position(of: "owner")
            )
        }
    }

    /// Splits CSV text into records, each handed to `body` with the line it starts on as it is read: a city's
    /// file is never held as records. Works on UTF-8 bytes: every delimiter is ASCII, so no split can fall inside a
    /// multi-byte character.
    /// Problems are quoting mistakes, each with its physical line: a quoted field never closed, or text after a
    /// closing quote (`"凌水"3群`), which RFC 4180 doesn't allow and which no reading would get right.
    static func forEachRecord(_ text: String, _ body: (Int, [String]) -> Void) -> [(Int, String)] {
        var text = text
        return text.withUTF8 { records($0, body) }
    }

    private static func records(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (Int, [String]) -> Void
    ) -> [(Int, String)] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var quoted = false
        var line = 1
        var recordLine = 1
        var quoteStart = 0
        var afterClosingQuote = false
        var problems: [(Int, String)] = []
        var index = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            quoted = false
            afterClosingQuote = false
        }
        // Copies the bytes from `start` up to the first of `stops` (or the end) into the field; returns where it stopped.
        func run(from start: Int, until stops: (UInt8) -> Bool) -> Int {
            var end = start
            while end < bytes.count && !stops(bytes[end]) { end += 1 }
            field.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
            return end
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inQuotes {
                if byte == quote {
                    if index < bytes.count && bytes[index] == quote {
                        field.append(quote)
                        index += 1
                    } else {
                        inQuotes = false
                        afterClosingQuote = true
                    }
                } else if byte == newline {
                    line += 1
                    field.append(byte)
                } else {
                    // Quoted text runs to the next quote or line break (each counted where it is).
                    index = run(from: index - 1, until: { $0 == quote || $0 == newline })
                }
                continue
            }
            if afterClosingQuote && byte != comma && byte != newline && byte != cr {
                problems.append((line, "text after the closing quote of a field: quote the whole field, as \"凌水3群\""))
                afterClosingQuote = false
            }
            switch byte {
            case quote where field.isEmpty && !quoted:
                inQuotes = true
                quoted = true
                quoteStart = line
            case comma:
                endField()
            case cr:
                continue
            case newline:
                endField()
                body(recordLine, fields)
                fields.removeAll(keepingCapacity: true)
                line += 1
                recordLine = line
            default:
                // Unquoted text, quotes inside it included, runs to the next delimiter.
                index = run(from: index - 1, until: { $0 == comma || $0 == newline || $0 == cr })
            }
        }
        if inQuotes {
            problems.append((quoteStart, "quoted field is never closed"))
            return problems
        }
        if !field.isEmpty || !fields.isEmpty {
            endField()
            body(recordLine, fields)
        }
        return problems
    }

    /// Parses a groups file, handing each row to `body` as it is read and reporting header and shape problems as
    /// `FILE:LINE: message`. After a header problem no row is handed on.
    public static func forEachRow(
        _ text: String, file: String, expansion: EnvironmentExpansion, _ body: (Row) -> Void
    ) -> [Diagnostic] {
        let text = TextDecoding.withoutByteOrderMark(text)
        var diagnostics: [Diagnostic] = []
        // nil until the header is read; then its names and column positions, or none when it was refused.
        var header: (names: [String], columns: [String: Int])??
        let problems = forEachRecord(text) { line, fields in
            guard isMeaningful(fields) else { return }
            guard let read = header else {
                header = .some(
                    self.header(fields, line: line, text: text, file: file, diagnostics: &diagnostics))
                return
            }
            guard let (names, columns) = read else { return }
            let location = SourceLocation(file: file, line: line)
            guard fields.count == names.count else {
                diagnostics.append(
                    Diagnostic(location, "expected \(names.count) fields as in the header, found \(fields.count)"))
                return
            }
            var cells: [String] = []
            cells.reserveCapacity(names.count)
            var ok = true
            var credentialsUnset = false
            for (name, raw) in zip(names, fields) {
                let text = raw.trimmingSpaces
                switch expansion.expand(text) {
                case .success(let value): cells.append(value)
                case .failure(.unset) where name == "url" || name == "secret":
                    // Kept as written, so the row's other columns are still checked in the same run.
                    if expansion.credentials == .required {
                        let message = EnvironmentExpansion.unsetMessage(expansion.unsetNames(in: text))
                        diagnostics.append(Diagnostic(location, "\(name): \(message)"))
                    }
                    cells.append(text)
                    credentialsUnset = true
                case .failure(.unset):
                    let message = EnvironmentExpansion.unsetMessage(expansion.unsetNames(in: text))
                    diagnostics.append(Diagnostic(location, "\(name): \(message)"))
                    ok = false
                case .failure(.malformed):
                    diagnostics.append(Diagnostic(location, "\(name): malformed ${VAR} reference"))
                    ok = false
                }
            }
            if ok { body(Row(line: line, cells: cells, columns: columns, credentialsUnset: credentialsUnset)) }
        }
        if header == nil {
            diagnostics.append(
                Diagnostic(
                    SourceLocation(file: file, line: 1),
                    "groups file is empty: it needs a header row \(columns.prefix(7).joined(separator: ","))"))
        }
        return problems.map { Diagnostic(SourceLocation(file: file, line: $0.0), $0.1) } + diagnostics
    }

    /// Whether a record is more than a blank line or a `#` comment.
    private static func isMeaningful(_ fields: [String]) -> Bool {
        !(fields.count == 1 && fields[0].trimmingSpaces.isEmpty) && !(fields.first?.hasPrefix("#") ?? false)
    }

    /// The header's names and column positions, or nil with its problems in `diagnostics`. A header without `url`
    /// is read against the rows (of `text`, read once more: such files hold customer groups only, and are small).
    private static func header(
        _ fields: [String], line: Int, text: String, file: String, diagnostics: inout [Diagnostic]
    ) -> (names: [String], columns: [String: Int])? {
        let names = fields.map { $0.trimmingSpaces.lowercased() }
        let location = SourceLocation(file: file, line: line)
        var headerOK = true
        for (index, name) in names.enumerated() where !columns.contains(name) {
            // Quote the name only when it looks like a column name: a header-less file would otherwise put a
            // URL or a secret from its first row into the error.
            let looksLikeName = name.count <= 32 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
            let shown = looksLikeName ? "unknown column '\(name)'" : "unknown column"
            diagnostics.append(
                Diagnostic(
                    location,
                    "\(shown) (column \(index + 1))\(looksLikeName ? KeySuggestion.hint(for: name, in: columns) : "; is the header row missing? expected \(columns.prefix(7).joined(separator: ","))")"
                )
            )
            headerOK = false
        }
        for name in Set(names) where names.filter({ $0 == name }).count > 1 {
            diagnostics.append(Diagnostic(location, "column '\(name)' appears twice"))
            headerOK = false
        }
        for required in requiredColumns where !names.contains(required) {
            diagnostics.append(Diagnostic(location, "header lacks the required column '\(required)'"))
            headerOK = false
        }
        // Customer groups have no webhook: a file of only those needs no url column.
        if headerOK, !names.contains("url"), let sink = names.firstIndex(of: "sink") {
            var needsURL = false
            _ = forEachRecord(text) { recordLine, fields in
                guard recordLine > line, isMeaningful(fields) else { return }
                if sink >= fields.count || fields[sink].trimmingSpaces != Group.customerGroupSink { needsURL = true }
            }
            if needsURL {
                diagnostics.append(Diagnostic(location, "header lacks the required column 'url'"))
                headerOK = false
            }
        }
        guard headerOK else { return nil }
        return (names, Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) }))
    }
}
