import Crypto
import Foundation
import GridcastCore
import Transport

/// DingTalk (钉钉) custom robot: `POST …/robot/send?access_token=TOKEN`, JSON text or markdown message; a poster as
/// markdown `![海报](image_url)`, a card as a `link` message.
///
/// With a signing secret (加签) every attempt carries a fresh `timestamp` (Unix milliseconds) and `sign`
/// (Base64 HMAC-SHA256, percent-encoded exactly once) in the query. Success is HTTP 200 with `errcode` 0 — HTTP 200
/// alone is not. `310000` (a security check: keyword, signature, timestamp or IP) and other codes are permanent;
/// `130101` (too fast: DingTalk then locks the robot for ten minutes) and `90030` (a quota) pause the robot for
/// ten minutes, HTTP 429 for its `Retry-After`; `-1` (busy) and HTTP 503 are retried; other 5xx are "outcome
/// unknown" (a gateway may answer after the message was posted, and DingTalk does not deduplicate). The 20,000-byte
/// limit is on the whole request body.
public struct DingTalkSink: Sink {
    public let name = "dingtalk"
    /// 20 messages a minute per robot; over it DingTalk throttles the robot for about ten minutes.
    public let rate: RateLimit? = .perMinute(20)

    /// The request body (JSON, escapes, mention and all) is limited to 20,000 bytes; over it DingTalk answers
    /// `460101`.
    public func limit(for group: Group) -> TextLimit { .bytes(20000) }

    /// How long DingTalk locks a robot that sent too fast (`130101`) or ran out of quota (`90030`).
    public static let lockout: Duration = .seconds(600)

    public func measure(_ message: OutgoingMessage) -> Int { bodySize(of: message) }

    /// Creates the sink.
    public init() {}

    public func rendersMarkdown(for group: Group) -> Bool { group.format == .markdown }

    /// The Base64 signature (not yet percent-encoded) for `timestampMillis`: HMAC-SHA256 of
    /// `"\(timestampMillis)\n\(secret)"`, keyed with the secret.
    public static func signature(secret: String, timestampMillis: Int) -> String {
        let key = SymmetricKey(data: Array(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestampMillis)\n\(secret)".utf8), using: key)
        return Data(mac).base64EncodedString()
    }

    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] {
        if (address.queryValue(named: "access_token") ?? "").isEmpty {
            return [
                GroupProblem(field: "url", message: "dingtalk url must carry the robot token as ?access_token=…")
            ]
        }
        return []
    }

    /// DingTalk shows an image only by address: a markdown message `![海报](image_url)` of its own.
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling {
        poster.url == nil
            ? .notShown(reason: "dingtalk shows images only by address and the notice has no image_url") : .ownPart
    }

    /// The card is a `link` message of its own.
    public func cardHandling(for group: Group) -> CardHandling { .ownPart }

    /// `text` led by the group's keyword (`【keyword】`) when it lacks it: the robot's security check looks for it
    /// in every message.
    static func withKeyword(_ text: String, of group: Group) -> String {
        guard let keyword = group.keyword, !keyword.isEmpty, !text.contains(keyword) else { return text }
        return "【\(keyword)】" + text
    }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        let group = message.group
        var body = JSONWriter()
        if case .poster(let poster) = message.content, let url = poster.url {
            let title = message.notice.title.isEmpty ? "海报" : message.notice.title
            body.field("msgtype", "markdown")
            body.object("markdown") { markdown in
                markdown.field("title", Self.withKeyword(title, of: group))
                markdown.field("text", "![海报](\(url))")
            }
        } else if case .card(let card) = message.content {
            let title = Self.withKeyword(card.title.isEmpty ? card.url : card.title, of: group)
            body.field("msgtype", "link")
            body.object("link") { link in
                link.field("title", title)
                link.field("text", card.description.isEmpty ? title : card.description)
                link.field("messageUrl", card.url)
                link.field("picUrl", card.pictureURL ?? "")
            }
        } else if group.format == .markdown {
            body.field("msgtype", "markdown")
            body.object("markdown") { markdown in
                markdown.field("title", Self.title(of: message))
                markdown.field("text", message.text)
            }
        } else {
            body.field("msgtype", "text")
            body.object("text") { text in text.field("content", message.text) }
        }
        if message.mentionsAll {
            body.object("at") { at in at.field("isAtAll", true) }
        }
        var url = group.url
        if let secret = group.secret, !secret.isEmpty {
            let timestamp = Int((now.timeIntervalSince1970 * 1000).rounded())
            let sign = Self.signature(secret: secret, timestampMillis: timestamp)
            url = Self.replacingSignature(in: url, timestamp: timestamp, encodedSign: Self.percentEncoded(sign))
        }
        return message.jsonRequest(body.finished, to: url)
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        if let verdict = ErrcodeStatus.verdict(for: response) { return verdict }
        guard let object = JSONBody.object(response.body), let code = JSONBody.int(object, "errcode") else {
            return .unknown(reason: "HTTP 200 without an errcode in the body")
        }
        let errmsg = JSONBody.message(object, "errmsg")
        let reason = "errcode \(code): \(errmsg)"
        switch code {
        case 0: return .sent
        case -1: return .retry(after: nil, reason: reason)
        case 130101, 90030: return .rateLimited(after: Self.lockout, reason: reason)
        case 310000: return .permanent(reason: reason + Self.securityHint(errmsg))
        default: return .permanent(reason: reason)
        }
    }

    /// What the operator should check for a failed security check; errmsg may carry a suffix, so match substrings.
    static func securityHint(_ errmsg: String) -> String {
        if errmsg.contains("keywords not in content") { return " (the text lacks the robot's custom keyword)" }
        if errmsg.contains("sign not match") { return " (check the group's secret)" }
        if errmsg.contains("invalid timestamp") { return " (check this machine's clock)" }
        // DingTalk names the refused address: "ip 203.0.113.7 not in whitelist".
        if errmsg.contains("not in whitelist") { return " (add this machine's address to the robot's IP list)" }
        return ""
    }

    /// The markdown title shown in notifications: the notice title, or the first line of the notice's text (the same
    /// for every part, so a part's size grows with its text alone).
    static func title(of message: OutgoingMessage) -> String {
        let title =
            message.notice.title.isEmpty
            ? String(message.notice.text.split(whereSeparator: \.isNewline).first ?? "")
            : message.notice.title
        return String(title.prefix(64))
    }

    /// `url` with any earlier `timestamp`/`sign` parameters dropped and fresh ones appended; the rest as written.
    static func replacingSignature(in url: String, timestamp: Int, encodedSign: String) -> String {
        QueryRewrite.setting([("timestamp", String(timestamp)), ("sign", encodedSign)], in: url)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters: Base64's `+`, `/` and `=` become `%2B`,
    /// `%2F` and `%3D`. Applied once, to the raw Base64.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
