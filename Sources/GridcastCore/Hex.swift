/// Lowercase hexadecimal, without Foundation's per-byte `String(format:)`.
public enum Hex {
    @usableFromInline static let digits = Array("0123456789abcdef".utf8)

    /// The bytes as lowercase hex. Inlinable, so each caller gets a copy specialized to its byte sequence: a
    /// 10,000-group plan makes one delivery id per group.
    @inlinable
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
