import Crypto

/// A poster (海报): one PNG or JPEG image that a notice carries, and optionally the public https address of the same
/// image for platforms that show images only by address (docs/rich-notices.md).
public struct Poster: Sendable, Hashable {
    /// The image formats a poster may have.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case png
        case jpeg

        /// The MIME type, as platforms and the generic sink name it.
        public var contentType: String { "image/\(rawValue)" }
    }

    /// Why bytes are not a poster.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong.
        public var message: String
        public var description: String { message }
    }

    /// The image file's bytes, as given.
    public let bytes: [UInt8]
    /// PNG or JPEG, read from the bytes' signature (never from a file name).
    public let format: Format
    /// The same image at a public https address (`image_url`), for platforms that show images only by address.
    public var url: String?

    /// A poster of `bytes`; refuses anything that is not a PNG or a JPEG by its signature, and empty files.
    public init(bytes: [UInt8], url: String? = nil) throws(Failure) {
        guard let format = Self.format(of: bytes) else {
            throw Failure(message: "not a PNG or JPEG image (a poster must be one)")
        }
        self.bytes = bytes
        self.format = format
        self.url = url
    }

    /// The format that `bytes` start like, if any.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.count > 3, bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// Lower-case hex SHA-256 of the bytes: the poster's identity in the ledger and in the notice's content hash.
    public var sha256: String { Hex.encode(SHA256.hash(data: bytes)) }

    /// The file name uploads give it: `poster.png` or `poster.jpg`.
    public var filename: String { "poster." + (format == .png ? "png" : "jpg") }

    /// Lower-case hex MD5 of the bytes (WeCom's image message carries it).
    public var md5: String { Hex.encode(Insecure.MD5.hash(data: bytes)) }
}
