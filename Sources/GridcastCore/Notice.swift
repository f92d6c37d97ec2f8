import Crypto
import Foundation

/// One warning or alert as written: what every selected group receives.
public struct Notice: Sendable, Hashable {
    /// Stable id; the ledger refuses a second notice with this id and other content.
    public var id: String
    /// Short title (may be empty).
    public var title: String
    /// The message body.
    public var text: String
    /// Urgent alerts skip quiet hours.
    public var urgent: Bool
    /// The poster it carries, if any.
    public var poster: Poster?
    /// The link card it carries, if any.
    public var link: LinkCard?

    /// Creates a notice.
    public init(
        id: String, title: String, text: String, urgent: Bool = false, poster: Poster? = nil, link: LinkCard? = nil
    ) {
        self.id = id
        self.title = title
        self.text = text
        self.urgent = urgent
        self.poster = poster
        self.link = link
    }

    /// SHA-256 over a canonical encoding of title, text, urgency, and the poster (its SHA-256 and address) and link
    /// card when there are any: equal content, equal hash. A notice of text alone hashes as it always did, so
    /// ledgers written before posters existed keep their ids' content.
    public var contentHash: String {
        Self.hash(
            title: title, text: text, urgent: urgent,
            extra: Self.contentFields(posterSHA256: poster?.sha256, posterURL: poster?.url, link: link))
    }

    /// The fields a poster (by its SHA-256 and address) and a link card add to the content hash: none for neither.
    public static func contentFields(posterSHA256: String?, posterURL: String?, link: LinkCard?) -> [String] {
        var extra: [String] = []
        if let posterSHA256 { extra += ["poster", posterSHA256, posterURL ?? ""] }
        if let link { extra += ["link", link.url, link.title, link.description, link.pictureURL ?? ""] }
        return extra
    }

    /// The content hash of the given parts; `extra` fields follow the three of a text notice.
    public static func hash(title: String, text: String, urgent: Bool, extra: [String] = []) -> String {
        var canonical = [UInt8]()
        for field in [title, text, urgent ? "urgent" : "normal"] + extra {
            let bytes = Array(field.utf8)
            canonical += withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init)
            canonical += bytes
        }
        return Hex.encode(SHA256.hash(data: canonical))
    }

    /// The id a notice gets when none is given: the local date and a digest of title and text, so an accidental
    /// second run on the same day names the same notice and sends nothing.
    public static func derivedID(title: String, text: String, on date: Date, in timeZone: TimeZone) -> String {
        let day = LocalDay(date: date, timeZone: timeZone)
        let digest = hash(title: title, text: text, urgent: false).prefix(12)
        return "n-\(day.compact)-\(digest)"
    }

    /// Whether `id` may name a notice: 1–128 of letters, digits, `.`, `_`, `-`, `:`, starting with a letter or digit.
    public static func isValidID(_ id: String) -> Bool {
        guard (1...128).contains(id.count), let first = id.unicodeScalars.first,
            first.properties.isASCIIHexDigit || ("a"..."z").contains(first) || ("A"..."Z").contains(first)
        else { return false }
        return id.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._-:".unicodeScalars.contains($0)
        }
    }
}
