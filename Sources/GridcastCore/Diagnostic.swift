/// Where something was written: a file, a line and, when known, a column (1-based, in Unicode scalars).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, nil for line-oriented files such as CSV.
    public var column: Int?

    /// Creates a location.
    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `FILE:LINE:COL` or `FILE:LINE`.
    public var description: String {
        if let column { return "\(file):\(line):\(column)" }
        return "\(file):\(line)"
    }
}

/// One problem found in the user's input, with its place.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is; nil when it concerns no particular place (a missing file).
    public var location: SourceLocation?
    /// What is wrong, in words that never contain a secret.
    public var message: String

    /// Creates a diagnostic.
    public init(_ location: SourceLocation?, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `FILE:LINE:COL: message`.
    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}

/// A config that can't be used, with every problem found in it.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// All problems, in file order.
    public var diagnostics: [Diagnostic]

    /// Creates an error from its problems.
    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
