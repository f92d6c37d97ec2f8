import Foundation

/// `${VAR}` substitution from the process environment; an unset variable is an error, never an empty string.
public struct EnvironmentExpansion: Sendable {
    /// The variables available for expansion.
    public var environment: [String: String]
    /// Whether an unset variable in a credential (a group's `url` or `secret`, an app's, the API token) is an error,
    /// as for the commands that send or serve, or is left unexpanded for commands that never use it (README,
    /// "Config").
    public var credentials: CredentialUse

    /// What an unset variable in a credential means.
    public enum CredentialUse: Sendable, Equatable {
        /// The command sends or serves: every credential must expand.
        case required
        /// The command only reads the ledger or the config's shape: credentials are not expanded when unset.
        case deferred
    }

    /// Creates an expander over the given environment.
    public init(environment: [String: String], credentials: CredentialUse = .required) {
        self.environment = environment
        self.credentials = credentials
    }

    /// Why a value could not be expanded.
    public enum Failure: Error, Equatable {
        /// `${NAME}` names a variable that is not set.
        case unset(String)
        /// `${` without a closing `}` or with an invalid name.
        case malformed
    }

    /// The names of the unset variables `text` refers to, each once, in order.
    public func unsetNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            let afterOpen = rest[start.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else { break }
            let name = String(afterOpen[..<close])
            if environment[name] == nil && !names.contains(name) { names.append(name) }
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        return names
    }

    /// `environment variable X is not set` or `environment variables X, Y are not set`.
    public static func unsetMessage(_ names: [String]) -> String {
        names.count == 1
            ? "environment variable \(names[0]) is not set"
            : "environment variables \(names.joined(separator: ", ")) are not set"
    }

    /// Expands every `${NAME}` in `text`.
    public func expand(_ text: String) -> Result<String, Failure> {
        // Scanned as contiguous bytes: this runs for every cell of a groups file, and most have no `$`.
        let dollar = UInt8(ascii: "$")
        let mayExpand =
            text.utf8.withContiguousStorageIfAvailable { $0.contains(dollar) } ?? text.utf8.contains(dollar)
        guard mayExpand, text.contains("${") else { return .success(text) }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            let afterOpen = rest[start.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else { return .failure(.malformed) }
            let name = String(afterOpen[..<close])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                return .failure(.malformed)
            }
            guard let value = environment[name] else { return .failure(.unset(name)) }
            result += value
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        result += rest
        return .success(result)
    }
}
