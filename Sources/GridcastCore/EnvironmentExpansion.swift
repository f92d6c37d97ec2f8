import Foundation

/// `${VAR}` substitution from the process environment; an unset variable is an error, never an empty string.
public struct EnvironmentExpansion: Sendable {
    /// The variables available for expansion.
    public var environment: [String: String]

    /// Creates an expander over the given environment.
    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// Why a value could not be expanded.
    public enum Failure: Error, Equatable {
        /// `${NAME}` names a variable that is not set.
        case unset(String)
        /// `${` without a closing `}` or with an invalid name.
        case malformed
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
