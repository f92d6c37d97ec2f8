import Foundation

/// Finds and hides credentials so that no bot key, token or signing secret reaches a log, an error or the ledger.
public enum SecretMask {
    /// Query parameters whose values are credentials on some platform.
    private static let credentialParameters: Set<String> = [
        "key", "access_token", "token", "sig", "sign", "secret", "code", "signature", "apikey", "api_key",
    ]

    /// The credential parts of a webhook URL: credential query values, and long or token-like path segments
    /// (Telegram's `bot<TOKEN>`, Feishu's hook token, Discord's and Slack's webhook tokens).
    public static func credentials(in url: String) -> [String] {
        let (authority, path, query) = split(url)
        var found: [String] = []
        if let at = authority.lastIndex(of: "@") {
            // user:password@host — both parts are credentials.
            found += authority[..<at].split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        for segment in path.split(separator: "/") where isTokenLike(segment) {
            found.append(String(segment))
            if segment.hasPrefix("bot") { found.append(String(segment.dropFirst(3))) }
        }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[1].isEmpty else { continue }
            if credentialParameters.contains(parts[0].lowercased()) || isTokenLike(parts[1]) {
                found.append(String(parts[1]))
            }
        }
        return found
    }

    /// The URL with every credential replaced by `***`: scheme, host and the shape of the path stay readable.
    public static func maskURL(_ url: String) -> String {
        redact(url, secrets: credentials(in: url))
    }

    /// Replaces every occurrence of every secret (longest first) with `***`.
    public static func redact(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets.filter({ $0.count >= 4 }).sorted(by: { $0.count > $1.count })
        where result.contains(secret) {
            result = result.replacingAll(secret, with: "***")
        }
        return result
    }

    private static func split(_ url: String) -> (authority: Substring, path: Substring, query: Substring) {
        var rest = Substring(url)
        if let range = rest.range(of: "://") { rest = rest[range.upperBound...] }
        let withoutFragment = rest.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let pathAndQuery = withoutFragment.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let beforeQuery = pathAndQuery.first ?? ""
        let query = pathAndQuery.count > 1 ? pathAndQuery[1] : ""
        let slash = beforeQuery.firstIndex(of: "/") ?? beforeQuery.endIndex
        return (beforeQuery[..<slash], beforeQuery[slash...], query)
    }

    /// Long random-looking strings: at least 16 characters mixing letters and digits, or a `bot…:…` token.
    private static func isTokenLike(_ text: Substring) -> Bool {
        if text.hasPrefix("bot") && text.contains(":") { return true }
        guard text.count >= 16 else { return false }
        let hasDigit = text.contains(where: \.isNumber)
        let hasLetter = text.contains(where: \.isLetter)
        return hasDigit && hasLetter || text.count >= 24
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
