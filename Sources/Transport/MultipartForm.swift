import Crypto
import Foundation

/// A `multipart/form-data` body (RFC 7578), written by hand: text fields and files, in order. One encoder for every
/// request that uploads a file (Discord's and Telegram's posters, WeCom's `media/upload`).
public struct MultipartForm: Sendable {
    /// The boundary between parts: `gridcast-` and 40 hex digits of a SHA-256 of what the form is for (the poster
    /// and the part), so every attempt sends the same bytes; no image carries it by chance.
    public let boundary: String
    private var bytes: [UInt8] = []

    /// A form whose boundary is made from `seed` (the poster's SHA-256, say).
    public init(seed: String) {
        self.init(seed: Array(seed.utf8))
    }

    /// A form whose boundary is made from the bytes of `seed` (a file's own bytes, say).
    public init(seed: [UInt8]) {
        let digest = SHA256.hash(data: Array("gridcast-form:".utf8) + seed)
        boundary = "gridcast-" + Self.hex(digest.prefix(20))
    }

    /// The `Content-Type` header value.
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Adds a text field (`payload_json`, `chat_id`…).
    public mutating func field(_ name: String, _ value: String, contentType: String? = nil) {
        open(name: name, filename: nil, contentType: contentType)
        bytes += Array(value.utf8)
        bytes += Array("\r\n".utf8)
    }

    /// Adds a file.
    public mutating func file(_ name: String, filename: String, contentType: String, _ content: [UInt8]) {
        open(name: name, filename: filename, contentType: contentType)
        bytes += content
        bytes += Array("\r\n".utf8)
    }

    private mutating func open(name: String, filename: String?, contentType: String?) {
        var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\""
        if let filename { head += "; filename=\"\(Self.quoted(filename))\"" }
        head += "\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        head += "\r\n"
        bytes += Array(head.utf8)
    }

    /// A name or file name as a quoted-string: `"`, CR and LF percent-encoded (as browsers do, RFC 7578 §2).
    public static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    /// The body, closed.
    public var finished: [UInt8] {
        bytes + Array("--\(boundary)--\r\n".utf8)
    }

    private static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
