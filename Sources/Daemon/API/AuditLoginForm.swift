import Foundation

/// The body of `POST /login`: `application/x-www-form-urlencoded` with a `token` field.
struct AuditLoginForm: Sendable, Equatable {
    /// The largest body read; a token is far smaller.
    static let maxBodySize = 4096

    /// The submitted token, surrounding whitespace removed (a token pasted from a file often ends in a newline);
    /// empty when the field is missing or can't be decoded.
    var token: String

    /// Reads the form from the body bytes. The value is never logged or echoed.
    init(body: some Collection<UInt8>) {
        let text = String(decoding: body, as: UTF8.self)
        var token = ""
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, Self.decode(parts[0]) == "token" else { continue }
            token = Self.decode(parts[1]) ?? ""
            break
        }
        self.token = token.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A form-encoded component: `+` is a space, then percent-decoding; nil when the escapes are malformed.
    static func decode(_ component: Substring) -> String? {
        component.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
