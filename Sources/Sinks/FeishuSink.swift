import Crypto
import Foundation
import GridcastCore
import Transport

/// Feishu (飞书) and Lark custom bots: `POST …/open-apis/bot/v2/hook/TOKEN` on `open.feishu.cn` or
/// `open.larksuite.com` — the same API, registered once per name.
///
/// Text goes as `msg_type: text` (a `post` with the link on a card notice's last part); the markdown format as an
/// `interactive` card with one `lark_md` block (and a button opening the link). With a
/// signing secret every attempt carries fresh top-level `timestamp` (Unix seconds) and `sign` fields. Success is
/// `code` 0 (or, in legacy answers without `code`, `StatusCode` 0) — HTTP 200 alone is not. `11232` (frequency
/// limited) and HTTP 429 pause the bot, HTTP 503 is retried, other 5xx are "outcome unknown", and every other code
/// (`19021` signature, `19024` keyword, `9499` bad request, `10208` type unsupported…) is permanent. The size
/// limit is on the whole request body.
public struct FeishuSink: Sink {
    /// `feishu` or `lark`.
    public let name: String
    /// Commonly quoted as 5 messages a second and 100 a minute per bot.
    public let rate: RateLimit? = RateLimit.perSecond(5).and(.perMinute(100))

    /// Request bodies (JSON, escapes, mention, `timestamp` and `sign` and all) are limited to about 20 KB; 20,000
    /// bytes keeps within it however the platform counts a kilobyte.
    public func limit(for group: Group) -> TextLimit { .bytes(20000) }

    public func measure(_ message: OutgoingMessage) -> Int { bodySize(of: message) }

    /// Creates the sink under `name` (`feishu` or `lark`).
    public init(name: String) {
        self.name = name
    }

    /// The Base64 signature for `timestampSeconds`: HMAC-SHA256 of empty content, keyed with
    /// `"\(timestampSeconds)\n\(secret)"`.
    public static func signature(secret: String, timestampSeconds: Int) -> String {
        let key = SymmetricKey(data: Array("\(timestampSeconds)\n\(secret)".utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: [UInt8](), using: key)
        return Data(mac).base64EncodedString()
    }

    public func rendersMarkdown(for group: Group) -> Bool { group.format == .markdown }

    /// The card is a link in a `post` (text format) or a button in the card (markdown), on the last part.
    public func cardHandling(for group: Group) -> CardHandling { .withText }

    /// A custom bot can't upload an image: with an app (`feishu_app:`) the dispatcher uploads it and the bot posts
    /// its `image_key`; without one, or when the bot requires a keyword (which an image can't hold), it is not shown.
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling {
        if group.feishuApp == nil {
            return .notShown(reason: "\(name) custom bots can't upload images and the group has no feishu_app")
        }
        if let keyword = group.keyword, !keyword.isEmpty {
            return .notShown(reason: "the bot's custom keyword must be in every message, and an image holds no text")
        }
        return .uploaded
    }

    /// Feishu's image upload takes up to 10 MB.
    public func posterLimit(for group: Group) -> PosterLimit? {
        group.feishuApp == nil ? nil : PosterLimit(bytes: 10 * 1024 * 1024, label: "10 MB")
    }

    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] {
        guard let range = address.path.range(of: "/open-apis/bot/v2/hook/"), !address.path[range.upperBound...].isEmpty
        else {
            return [GroupProblem(field: "url", message: "\(name) url path must be /open-apis/bot/v2/hook/TOKEN")]
        }
        return []
    }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        let group = message.group
        var body = JSONWriter()
        let bytes: [UInt8]
        if let secret = group.secret, !secret.isEmpty {
            let timestamp = Int(now.timeIntervalSince1970)
            body.field("timestamp", String(timestamp))
            body.field("sign", Self.signature(secret: secret, timestampSeconds: timestamp))
        }
        // The card goes with the last text part, which is the last part unless an uploaded poster follows it.
        let posterPart = message.notice.poster.map { posterHandling($0, for: group) == .uploaded } ?? false
        let link = message.part == message.partCount - (posterPart ? 1 : 0) ? message.notice.link : nil
        if case .poster = message.content {
            guard let key = message.media else { throw RenderError("the poster was not uploaded (no image_key)") }
            body.field("msg_type", "image")
            body.object("content") { content in content.field("image_key", key) }
            bytes = body.finished
        } else if group.format == .markdown {
            body.field("msg_type", "interactive")
            let content = message.mentionsAll ? "<at id=all></at> " + message.text : message.text
            var block = JSONWriter()
            block.field("tag", "div")
            block.object("text") { text in
                text.field("tag", "lark_md")
                text.field("content", content)
            }
            var elements = [block]
            if let link { elements.append(Self.button(link)) }
            var card = JSONWriter()
            card.array("elements", objects: elements)
            body.object("card", card)
            bytes = body.finished
        } else if let link {
            body.field("msg_type", "post")
            body.object("content") { content in
                content.object("post") { post in
                    post.object("zh_cn") { language in
                        language.field("title", "")
                        language.rawArray("content", Self.postLines(message, link: link))
                    }
                }
            }
            bytes = body.finished
        } else {
            body.field("msg_type", "text")
            let text = message.mentionsAll ? #"<at user_id="all">所有人</at> "# + message.text : message.text
            body.object("content") { content in content.field("text", text) }
            bytes = body.finished
        }
        return message.jsonRequest(bytes)
    }

    /// A `post`'s lines: the text (after an `at` of everyone when it mentions), then the card's link and description.
    static func postLines(_ message: OutgoingMessage, link: LinkCard) -> [[JSONWriter]] {
        func element(_ fields: [(String, String)]) -> JSONWriter {
            var element = JSONWriter()
            for (key, value) in fields { element.field(key, value) }
            return element
        }
        var first: [JSONWriter] = []
        if message.mentionsAll { first.append(element([("tag", "at"), ("user_id", "all")])) }
        first.append(element([("tag", "text"), ("text", message.text)]))
        var lines = [
            first, [element([("tag", "a"), ("text", link.title.isEmpty ? link.url : link.title), ("href", link.url)])],
        ]
        if !link.description.isEmpty { lines.append([element([("tag", "text"), ("text", link.description)])]) }
        return lines
    }

    /// A card's button that opens the link.
    static func button(_ link: LinkCard) -> JSONWriter {
        var button = JSONWriter()
        button.field("tag", "button")
        button.object("text") { text in
            text.field("tag", "plain_text")
            text.field("content", link.title.isEmpty ? link.url : link.title)
        }
        button.field("url", link.url)
        button.field("type", "default")
        var action = JSONWriter()
        action.field("tag", "action")
        action.array("actions", objects: [button])
        return action
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        let status = response.status
        switch status {
        case 429:
            return .rateLimited(after: RetryAfter.delay(in: response), reason: "HTTP 429")
        case 500...599:
            return ServerErrorRule.verdict(for: response, reason: "HTTP \(status)")!
        default:
            break
        }
        // Feishu puts its error codes in the body, under HTTP 200 and under HTTP 400 alike.
        let object = JSONBody.object(response.body)
        if let object, let code = JSONBody.int(object, "code") {
            return verdict(code: code, message: JSONBody.message(object, "msg"), status: status)
        }
        if let object, let code = JSONBody.int(object, "StatusCode") {
            return verdict(code: code, message: JSONBody.message(object, "StatusMessage"), status: status)
        }
        if (200...299).contains(status) {
            return .unknown(reason: "HTTP \(status) without a code in the body")
        }
        return .permanent(reason: "HTTP \(status)")
    }

    private func verdict(code: Int, message: String, status: Int) -> Verdict {
        let reason = "code \(code): \(message)"
        switch code {
        case 0 where (200...299).contains(status): return .sent
        case 0: return .permanent(reason: "HTTP \(status) with \(reason)")
        case 11232: return .rateLimited(after: nil, reason: reason)
        case 19021: return .permanent(reason: reason + " (check the group's secret and this machine's clock)")
        case 19024: return .permanent(reason: reason + " (the text lacks the bot's custom keyword)")
        default: return .permanent(reason: reason)
        }
    }
}
