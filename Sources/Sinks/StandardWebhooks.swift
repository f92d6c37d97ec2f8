import Crypto
import Foundation

/// Signing per the Standard Webhooks spec: `v1,` + Base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
/// keyed with the Base64-decoded part of a `whsec_…` secret.
public struct StandardWebhooks: Sendable {
    private let key: SymmetricKey

    /// Creates a signer, or nil when `secret` is not `whsec_` followed by valid Base64.
    public init?(secret: String) {
        guard secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))), !bytes.isEmpty
        else { return nil }
        key = SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` header value for one message.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content += body
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// Whether a `webhook-signature` header (space-separated `v1,…` entries) holds a valid signature.
    public func verify(header: String, id: String, timestamp: Int, body: [UInt8]) -> Bool {
        let expected = Array(signature(id: id, timestamp: timestamp, body: body).utf8)
        return header.split(separator: " ").contains { candidate in
            let given = Array(candidate.utf8)
            guard given.count == expected.count else { return false }
            return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
        }
    }
}
