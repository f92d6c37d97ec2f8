import Foundation
import GridcastCore
import Transport

/// One chat platform: how a message for a group becomes HTTP requests, and what the platform's answer means.
///
/// A sink is a stateless value: it renders and classifies, the dispatcher sends and records. Adding a platform is
/// one new file with one type conforming to `Sink`, and one line in ``SinkRegistry/standard``.
public protocol Sink: Sendable {
    /// The `sink:` value that selects this platform.
    var name: String { get }
    /// The most one message may hold for this group (it may depend on the group's `format`); longer notices are
    /// split into parts.
    func limit(for group: Group) -> TextLimit
    /// The size of `message` as the platform counts it against ``limit(for:)``: the text by default; the whole
    /// request body, or the text with its mention, where that is what the platform limits (`docs/sinks.md`).
    func measure(_ message: OutgoingMessage) -> Int
    /// The platform's published per-bot rate, which pacing follows unless the group sets `rate:`; nil when the
    /// platform publishes none (pacing then follows ``pacing(after:)``).
    var rate: RateLimit? { get }
    /// The bot a group's messages count against for pacing: its webhook URL, or more (Telegram: URL and chat).
    func botKey(for group: Group) -> String
    /// What is wrong with a group for this platform (a missing key, a malformed secret…); `address` is its URL as
    /// the transport reads it.
    func problems(for group: Group, address: WebhookAddress) -> [GroupProblem]
    /// The request that posts one part of a message. Called for every attempt, so signatures are fresh.
    func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest
    /// What the platform's answer means. Reads the status AND the body: several platforms answer HTTP 200 on failure.
    func classify(_ response: HTTPResponse) -> Verdict
    /// How long this bot must wait before its next request, as the answer says (Discord's `X-RateLimit-*`
    /// headers); nil when the answer says nothing about it.
    func pacing(after response: HTTPResponse) -> Duration?
    /// True when the receiver drops a repeat of a message it already has (by the delivery id), so a message whose
    /// outcome is unknown may be sent again; false for every chat platform, which would post it twice.
    var deduplicates: Bool { get }
    /// Whether this group's messages are shown as markdown, so a notice's markdown is kept; otherwise it is turned
    /// into plain text (``MarkdownText``).
    func rendersMarkdown(for group: Group) -> Bool
    /// How this group gets a notice's poster: its own part, inside the text, or not shown and why
    /// (docs/rich-notices.md).
    func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling
    /// The largest poster the platform takes, if it limits it; a larger one is refused when the notice is planned.
    func posterLimit(for group: Group) -> PosterLimit?
    /// How this group gets a notice's link card.
    func cardHandling(for group: Group) -> CardHandling
}

extension Sink {
    public var deduplicates: Bool { false }
    public func rendersMarkdown(for group: Group) -> Bool { false }
    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] { [] }
    public func botKey(for group: Group) -> String { group.url }
    public func pacing(after response: HTTPResponse) -> Duration? { nil }
    public func measure(_ message: OutgoingMessage) -> Int { limit(for: message.group).measure(message.text) }
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling {
        .notShown(reason: "\(name) posts no images from a webhook")
    }
    public func posterLimit(for group: Group) -> PosterLimit? { nil }
    public func cardHandling(for group: Group) -> CardHandling { .linkInText }

    /// The size of the request body this sink builds for `message`; a message that can't be rendered measures its
    /// text (sending it fails the same way). Any moment renders a body of the same size.
    func bodySize(of message: OutgoingMessage) -> Int {
        (try? request(for: message, now: Date(timeIntervalSince1970: 1_800_000_000)))?.body.count
            ?? message.text.utf8.count
    }
}

/// One part of one notice, addressed to one group: everything a sink needs to render a request.
public struct OutgoingMessage: Sendable {
    /// The delivery's stable id (the generic sink's `webhook-id`).
    public var deliveryID: String
    /// The notice being delivered.
    public var notice: Notice
    /// When the notice was planned.
    public var noticeCreatedAt: Date
    /// The receiving group.
    public var group: Group
    /// 1-based part number.
    public var part: Int
    /// How many parts the notice has for this group.
    public var partCount: Int
    /// The text of this part, ready to post (title, keyword and part marker included); empty for a poster or card.
    public var text: String
    /// What this part carries: its text, the poster or the link card.
    public var content: MessagePart
    /// The platform's reference to this part's poster, uploaded by the dispatcher where the sink's poster handling
    /// is ``PosterHandling/uploaded`` (Feishu's `image_key`).
    public var media: String?
    /// The request deadline.
    public var timeout: Duration

    /// Creates a message.
    public init(
        deliveryID: String,
        notice: Notice,
        noticeCreatedAt: Date,
        group: Group,
        part: Int = 1,
        partCount: Int = 1,
        text: String,
        content: MessagePart? = nil,
        timeout: Duration = .seconds(15)
    ) {
        self.deliveryID = deliveryID
        self.notice = notice
        self.noticeCreatedAt = noticeCreatedAt
        self.group = group
        self.part = part
        self.partCount = partCount
        self.text = text
        self.content = content ?? .text(text)
        self.timeout = timeout
    }

    /// Whether this message mentions everyone: the group's `mention_all` allows it for this notice, and it is the
    /// first part.
    public var mentionsAll: Bool {
        part == 1 && group.mentionAll.applies(urgent: notice.urgent)
    }

    /// A stable id for this part: the delivery id, suffixed with the part number when there are several.
    public var partID: String {
        partCount > 1 ? "\(deliveryID).\(part)" : deliveryID
    }
}

/// What a platform's answer means for a delivery.
public enum Verdict: Sendable, Equatable {
    /// The platform confirmed the message.
    case sent
    /// The platform accepted the message to post it later and never says whether it did (Teams Workflows' 202): final,
    /// never resent, recorded as `accepted` rather than `sent`.
    case accepted
    /// A transient failure: try again after `after`, or after the backoff when nil. Spends an attempt.
    case retry(after: Duration?, reason: String)
    /// The platform said "too fast": pause this bot for `after` (or `dispatch.rate_limit_pause`), then try again
    /// without spending an attempt.
    case rateLimited(after: Duration?, reason: String)
    /// The platform refused the message for good: never retried.
    case permanent(reason: String)
    /// The platform answered, but the answer does not say whether the message was posted.
    case unknown(reason: String)
}

/// A message could not be rendered for its group.
public struct RenderError: Error, Sendable, CustomStringConvertible {
    /// What is wrong (secret-free).
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// How a platform measures its size limit.
public enum TextLimit: Sendable, Equatable {
    /// UTF-8 bytes.
    case bytes(Int)
    /// UTF-16 code units (what platforms that say "characters" count; never fewer than graphemes).
    case characters(Int)

    /// The size of `text` in this limit's unit.
    public func measure<S: StringProtocol>(_ text: S) -> Int {
        switch self {
        case .bytes: text.utf8.count
        case .characters: text.utf16.count
        }
    }

    /// The limit's value.
    public var value: Int {
        switch self {
        case .bytes(let n), .characters(let n): n
        }
    }
}

extension OutgoingMessage {
    /// The usual webhook request: POST `body` as JSON to `url` (the group's URL unless a sink rewrites it).
    func jsonRequest(_ body: [UInt8], to url: String? = nil) -> HTTPRequest {
        HTTPRequest(
            url: url ?? group.url,
            headers: [HTTPHeader("Content-Type", "application/json; charset=utf-8")],
            body: body,
            timeout: timeout
        )
    }
}
