import Foundation

/// Request bodies and error text for every platform's app API: JSON as the platforms read it, query values
/// percent-encoded, and secrets kept out of error messages.
enum AppText {
    /// `text` with everything but unreserved characters (RFC 3986) percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The JSON of `body`: UTF-8 as is (WeCom refuses `\uXXXX` escapes, errcode 40033), slashes unescaped, keys
    /// sorted so that every attempt sends the same bytes.
    static func json<Body: Encodable>(_ body: Body) throws(AppCallError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(body))
        } catch {
            throw .malformed("the request could not be written as JSON")
        }
    }

    /// `text` with every non-empty secret in `secrets` replaced by `***`, cut to 300 characters. A secret the text
    /// holds percent-encoded (in any form) is found too: the text is then scrubbed percent-decoded.
    static func scrubbed(_ text: String, hiding secrets: [String]) -> String {
        let secrets = secrets.filter { !$0.isEmpty }
        var text = text
        if let decoded = text.removingPercentEncoding, decoded != text,
            secrets.contains(where: { decoded.contains($0) })
        {
            text = decoded
        }
        for secret in secrets {
            text = text.replacingOccurrences(of: secret, with: "***")
            text = text.replacingOccurrences(of: percentEncoded(secret), with: "***")
        }
        return String(text.prefix(300))
    }
}
