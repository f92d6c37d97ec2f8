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
            // user:password@host — both parts are credentials, and so is the Basic `Authorization` value libcurl
            // makes of them (Base64 of `user:password`, percent-decoded), which a receiver may echo back.
            let userinfo = authority[..<at]
            found += userinfo.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            let colon = userinfo.firstIndex(of: ":") ?? userinfo.endIndex
            let user = String(userinfo[..<colon])
            let password = colon == userinfo.endIndex ? "" : String(userinfo[userinfo.index(after: colon)...])
            for (name, secret) in [(user, password), (percentDecoded(user), percentDecoded(password))] {
                found.append(Data("\(name):\(secret)".utf8).base64EncodedString())
            }
        }
        for segment in pieces(path, by: "/") where isTokenLike(segment) {
            found.append(String(segment))
            if segment.hasPrefix("bot") { found.append(String(segment.dropFirst(3))) }
        }
        for pair in pieces(query, by: "&") {
            let parts = pieces(pair, by: "=", maxSplits: 1)
            guard parts.count == 2, !parts[1].isEmpty else { continue }
            if credentialParameters.contains(parts[0].lowercased()) || isTokenLike(parts[1]) {
                found.append(String(parts[1]))
            }
        }
        return found
    }

    /// The URL with every credential replaced by `***`: scheme, host and the shape of the path stay readable.
    /// Every query value and the userinfo are masked whatever their name or length (a key pasted straight into a
    /// URL under any parameter name), and so are token-like path segments.
    public static func maskURL(_ url: String) -> String {
        let masked = redact(url, secrets: credentials(in: url))
        guard let schemeEnd = masked.range(of: "://") else { return masked }
        let (authority, path, query) = split(masked)
        var result = String(masked[..<schemeEnd.upperBound])
        if let at = authority.lastIndex(of: "@") {
            result += "***" + authority[at...]
        } else {
            result += authority
        }
        // Token-like segments, and whatever follows where a platform puts its token in the path: Feishu's
        // `/hook/TOKEN`, Slack's `/services/T/B/X`, Discord's `/webhooks/ID/TOKEN`.
        var afterMarker = false
        result += path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            defer { if ["hook", "services", "webhooks"].contains(segment) { afterMarker = true } }
            let secret = afterMarker && !segment.isEmpty || isTokenLike(segment)
            return secret ? "***" : String(segment)
        }.joined(separator: "/")
        if masked.contains("?") {
            result +=
                "?"
                + query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
                    guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
                    return String(pair[...equals]) + (pair[pair.index(after: equals)...].isEmpty ? "" : "***")
                }.joined(separator: "&")
        }
        if masked.contains("#") { result += "#***" }
        return result
    }

    /// Replaces every form of every secret (see ``SecretForms``) with `***`. Builds the forms on each call: hold a
    /// ``SecretForms`` to redact many texts.
    public static func redact(_ text: String, secrets: [String]) -> String {
        SecretForms(secrets).redact(text)
    }

    /// `text` with `%XX` sequences decoded; `text` itself when they don't decode to UTF-8.
    static func percentDecoded(_ text: String) -> String {
        text.removingPercentEncoding ?? text
    }

    /// A URL's authority (userinfo and host), path and query, without scheme and fragment. Read as bytes, not
    /// characters: the separators are ASCII, and reading every group's URL character by character was most of the
    /// time a config of 100,000 groups took to load.
    private static func split(_ url: String) -> (authority: Substring, path: Substring, query: Substring) {
        let bytes = url.utf8
        var start = bytes.startIndex
        var cursor = bytes.startIndex
        while let colon = bytes[cursor...].firstIndex(of: UInt8(ascii: ":")) {
            if bytes[colon...].starts(with: "://".utf8) {
                start = bytes.index(colon, offsetBy: 3)
                break
            }
            cursor = bytes.index(after: colon)
        }
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.endIndex
        let question = bytes[start..<end].firstIndex(of: UInt8(ascii: "?"))
        let pathEnd = question ?? end
        let query = question.map { url[bytes.index(after: $0)..<end] } ?? ""
        let slash = bytes[start..<pathEnd].firstIndex(of: UInt8(ascii: "/")) ?? pathEnd
        return (url[start..<slash], url[slash..<pathEnd], query)
    }

    /// `text` split at an ASCII `separator`, empty pieces left out, at most `maxSplits` times: as bytes.
    private static func pieces(_ text: Substring, by separator: Unicode.Scalar, maxSplits: Int = .max) -> [Substring] {
        text.utf8.split(separator: UInt8(separator.value), maxSplits: maxSplits).map {
            text[$0.startIndex..<$0.endIndex]
        }
    }

    /// Long random-looking strings: at least 16 characters mixing letters and digits, or a `bot…:…` token.
    private static func isTokenLike(_ text: Substring) -> Bool {
        if text.utf8.starts(with: "bot".utf8) && text.utf8.contains(UInt8(ascii: ":")) { return true }
        let scalars = text.unicodeScalars
        let count = scalars.count
        guard count >= 16 else { return false }
        let hasDigit = scalars.contains { $0.properties.numericType != nil }
        let hasLetter = scalars.contains { $0.properties.isAlphabetic }
        return hasDigit && hasLetter || count >= 24
    }
}

/// Every form a set of secrets can take in text a receiver sends back, built once: each secret as written, its
/// percent-decoded form (`%2D` → `-`, and `+` → space as in a form), its percent-encoded forms (only unreserved
/// characters kept, or only letters and digits; upper- or lower-case hex), and the JSON-escaped form of each of
/// those (`/` as `\/`, non-ASCII as `\uXXXX`, either case). URL userinfo adds the Base64 of `user:password`
/// (see ``SecretMask/credentials(in:)``). Forms shorter than 4 characters are left alone: they would mask words.
public struct SecretForms: Sendable, Hashable {
    /// The forms, longest first, so that a longer form is masked before a shorter one inside it.
    public let forms: [String]

    /// Builds every form of each of `secrets`.
    public init(_ secrets: [String]) {
        var all = Set<String>()
        for secret in secrets where !secret.isEmpty {
            all.formUnion(Self.forms(of: secret))
        }
        forms = all.filter { $0.count >= 4 }.sorted { ($0.count, $0) > ($1.count, $1) }
    }

    /// `text` with every form of every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        var result = text
        for form in forms where result.contains(form) {
            result = result.replacingAll(form, with: "***")
        }
        return result
    }

    /// The forms of one secret.
    static func forms(of secret: String) -> Set<String> {
        // Most secrets are letters, digits and a few of `-._~`: each step below is skipped when it can't change
        // anything, which keeps a 10,000-group config quick to load.
        var plain: Set<String> = [secret]
        if secret.utf8.contains(UInt8(ascii: "%")) || secret.utf8.contains(UInt8(ascii: "+")) {
            for decoded in [secret, secret.replacingOccurrences(of: "+", with: " ")] {
                plain.insert(SecretMask.percentDecoded(decoded))
            }
        }
        var forms = plain
        for text in plain where !text.utf8.allSatisfy(Self.isAlphanumeric) {
            for onlyAlphanumerics in [false, true] {
                for uppercase in [true, false] {
                    forms.insert(Self.percentEncoded(text, onlyAlphanumerics: onlyAlphanumerics, uppercase: uppercase))
                }
            }
        }
        for text in forms where text.utf8.contains(where: Self.needsJSONEscape) {
            for slash in [true, false] {
                for style in [JSONEscape.keep, .lowercase, .uppercase] {
                    forms.insert(Self.jsonEscaped(text, slash: slash, nonASCII: style))
                }
            }
        }
        return forms
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            false
        }
    }

    /// Whether JSON may write this byte otherwise than as itself: quote, backslash, slash, control, non-ASCII.
    private static func needsJSONEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte >= 0x80 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
            || byte == UInt8(ascii: "/")
    }

    /// `text`'s UTF-8 bytes as `%XX`, except letters and digits and, unless `onlyAlphanumerics`, RFC 3986's other
    /// unreserved characters `-._~`.
    private static func percentEncoded(_ text: String, onlyAlphanumerics: Bool, uppercase: Bool) -> String {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if isAlphanumeric(byte) || !onlyAlphanumerics && "-._~".utf8.contains(byte) {
                bytes.append(byte)
            } else {
                bytes += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private enum JSONEscape { case keep, lowercase, uppercase }

    /// `text` as a JSON string's contents: quote, backslash and control characters escaped, `/` when `slash`, and
    /// every UTF-16 unit above ASCII as `\uXXXX` unless `nonASCII` is `.keep`.
    private static func jsonEscaped(_ text: String, slash: Bool, nonASCII: JSONEscape) -> String {
        var result = ""
        func unit(_ value: UInt16) {
            let hex = String(value, radix: 16, uppercase: nonASCII == .uppercase)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "/": result += slash ? "\\/" : "/"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: unit(UInt16(scalar.value))
            case _ where scalar.value >= 0x80 && nonASCII != .keep:
                for value in String(scalar).utf16 { unit(value) }
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
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
