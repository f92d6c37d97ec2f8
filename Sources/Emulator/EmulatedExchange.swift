import Foundation
import GridcastCore

/// A request as the emulator saw it.
public struct EmulatedRequest: Sendable {
    /// The method.
    public var method: String
    /// Path without the query.
    public var path: String
    /// Query parameters (first value wins).
    public var query: [String: String]
    /// Header fields, names lowercased.
    public var headers: [String: String]
    /// The body bytes.
    public var body: [UInt8]
    /// Images uploaded through the platform's app API, by the key its messages name them with (Feishu's
    /// `image_key`).
    var uploadedImages: [String: [UInt8]] = [:]

    /// Creates a request; `uri` is path plus optional query.
    public init(method: String, uri: String, headers: [String: String], body: [UInt8]) {
        self.method = method
        // Split on bytes: as a benchmark receiver the emulator reads thousands of these a second.
        let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?"))
        self.path = String(uri[..<(mark ?? uri.endIndex)])
        var query: [String: String] = [:]
        if let mark {
            for pair in uri[uri.index(after: mark)...].utf8.split(separator: UInt8(ascii: "&")) {
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                let key = Self.decoded(Substring(pair[..<equals]))
                if query[key] == nil {
                    query[key] = equals == pair.endIndex ? "" : Self.decoded(Substring(pair[equals...].dropFirst()))
                }
            }
        }
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Percent-decoded as Foundation decodes it (`+` stays `+`), or as written when an escape is invalid.
    private static func decoded(_ text: Substring) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        return text.removingPercentEncoding ?? String(text)
    }
}

/// What the emulator does with a request.
public enum EmulatedAction: Sendable, Equatable {
    /// Answer with this status, headers and body.
    case respond(status: Int, headers: [String: String], body: String)
    /// Read the request and never answer (the client times out: outcome unknown).
    case hang
    /// Read the request and drop the connection (outcome unknown).
    case reset

    static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> EmulatedAction {
        var headers = headers
        headers["content-type"] = "application/json"
        return .respond(status: status, headers: headers, body: body)
    }
}

/// One message a group accepted, as the group would see it.
public struct ReceivedMessage: Sendable, Codable, Equatable {
    /// The group's id (or a placeholder when the emulator has no config).
    public var group: String
    /// The platform.
    public var sink: String
    /// The text as shown in the chat.
    public var text: String
    /// The generic sink's `webhook-id`, when present.
    public var webhookID: String?
    /// Mentions everyone.
    public var mentionAll: Bool
    /// When it arrived.
    public var receivedAt: Date
    /// The forum topic it was posted in (Telegram's `message_thread_id`), when one was named.
    public var threadID: Int?
    /// The image it carried (a poster), when it was an image message or carried one.
    public var image: ReceivedImage? = nil
    /// The link card it carried, when it was a card message or carried one.
    public var card: ReceivedCard? = nil

    enum CodingKeys: String, CodingKey {
        case group, sink, text, image, card
        case threadID = "thread_id"
        case webhookID = "webhook_id"
        case mentionAll = "mention_all"
        case receivedAt = "received_at"
    }
}

/// An image a platform received: its identity and size, as checked (the bytes are kept by the emulator, by sha256).
public struct ReceivedImage: Sendable, Codable, Equatable {
    /// Lower-case hex SHA-256 of the bytes; empty when only an address arrived.
    public var sha256: String
    /// The bytes' length; 0 when only an address arrived.
    public var size: Int
    /// The address it was shown by, when it came as one (`image_url`).
    public var url: String?
    /// The bytes as they arrived, until the emulator keeps them by sha256 (never listed with the message).
    var bytes: [UInt8]? = nil

    enum CodingKeys: String, CodingKey {
        case sha256, size, url
    }

    /// Creates an image record.
    public init(sha256: String, size: Int, url: String? = nil) {
        self.sha256 = sha256
        self.size = size
        self.url = url
    }

    /// The record of uploaded `bytes`, which the emulator keeps (``EmulatorServer/poster(sha256:)``).
    init(uploaded bytes: [UInt8], sha256: String) {
        self.init(sha256: sha256, size: bytes.count)
        self.bytes = bytes
    }
}

/// A link card a platform received.
public struct ReceivedCard: Sendable, Codable, Equatable {
    /// Where it leads.
    public var url: String
    /// Its title.
    public var title: String

    /// Creates a card record.
    public init(url: String, title: String) {
        self.url = url
        self.title = title
    }
}

/// One request the emulator received for a bot, and what it did: the tests' view of "who was sent what, when".
public struct EmulatedRequestRecord: Sendable, Equatable {
    /// The group's id (or the bot's key for an unknown bot, or when the emulator runs without a config).
    public var group: String
    /// When it arrived, by the emulator's clock.
    public var receivedAt: Date
    /// The HTTP status answered; nil when the connection was held open or dropped instead.
    public var status: Int?
    /// Whether a planned fault decided the answer.
    public var injected: Bool

    /// Creates a record.
    public init(group: String, receivedAt: Date, status: Int?, injected: Bool) {
        self.group = group
        self.receivedAt = receivedAt
        self.status = status
        self.injected = injected
    }
}
