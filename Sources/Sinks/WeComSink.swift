import Foundation
import GridcastCore
import Transport

/// WeCom (企业微信) group robot: `POST …/cgi-bin/webhook/send?key=KEY`, JSON text, markdown, image or news message.
///
/// Success is HTTP 200 with `errcode` 0 — HTTP 200 alone is not. `-1` (busy) and HTTP 503 are retried, `45009`
/// (frequency limit) and HTTP 429 pause the robot, other 5xx are "outcome unknown" (a gateway may answer after the
/// message was posted, and WeCom has no deduplication), anything else is permanent.
public struct WeComSink: Sink {
    public let name = "wecom"
    /// 20 messages a minute per robot.
    public let rate: RateLimit? = .perMinute(20)

    /// Text content is limited to 2048 bytes of UTF-8, markdown to 4096.
    public func limit(for group: Group) -> TextLimit {
        usesMarkdown(group) ? .bytes(4096) : .bytes(2048)
    }

    /// Markdown when asked for, except with `mention_all` (`true` or `urgent`): WeCom markdown can't mention
    /// everyone.
    func usesMarkdown(_ group: Group) -> Bool {
        group.format == .markdown && !group.mentionAll.mayMention
    }

    public func rendersMarkdown(for group: Group) -> Bool { usesMarkdown(group) }

    /// Creates the sink.
    public init() {}

    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] {
        var problems: [GroupProblem] = []
        if (address.queryValue(named: "key") ?? "").isEmpty {
            problems.append(GroupProblem(field: "url", message: "wecom url must carry the robot key as ?key=…"))
        }
        if !address.path.hasSuffix("/cgi-bin/webhook/send") {
            problems.append(GroupProblem(field: "url", message: "wecom url path must be /cgi-bin/webhook/send"))
        }
        return problems
    }

    /// The poster goes as an `image` message of its own (base64 and md5 of the file).
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling { .ownPart }

    /// WeCom takes images up to 2 MB.
    public func posterLimit(for group: Group) -> PosterLimit? { PosterLimit(bytes: 2 * 1024 * 1024, label: "2 MB") }

    /// The card goes as a `news` message with one article.
    public func cardHandling(for group: Group) -> CardHandling { .ownPart }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        var body = JSONWriter()
        switch message.content {
        case .poster(let poster):
            body.field("msgtype", "image")
            body.object("image") { image in
                image.field("base64", Data(poster.bytes).base64EncodedString())
                image.field("md5", poster.md5)
            }
            return message.jsonRequest(body.finished)
        case .card(let card):
            var article = JSONWriter()
            article.field("title", Truncated.utf8(card.title, bytes: 128))
            if !card.description.isEmpty { article.field("description", Truncated.utf8(card.description, bytes: 512)) }
            article.field("url", card.url)
            if let picture = card.pictureURL { article.field("picurl", picture) }
            body.field("msgtype", "news")
            body.object("news") { news in news.array("articles", objects: [article]) }
            return message.jsonRequest(body.finished)
        case .text:
            break
        }
        if usesMarkdown(message.group) {
            body.field("msgtype", "markdown")
            body.object("markdown") { markdown in markdown.field("content", message.text) }
        } else {
            body.field("msgtype", "text")
            body.object("text") { text in
                text.field("content", message.text)
                if message.mentionsAll { text.field("mentioned_list", ["@all"]) }
            }
        }
        return message.jsonRequest(body.finished)
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        if let verdict = ErrcodeStatus.verdict(for: response) { return verdict }
        guard let object = JSONBody.object(response.body), let code = JSONBody.int(object, "errcode") else {
            return .unknown(reason: "HTTP 200 without an errcode in the body")
        }
        let reason = "errcode \(code): \(JSONBody.message(object, "errmsg"))"
        switch code {
        case 0: return .sent
        case -1: return .retry(after: nil, reason: reason)
        case 45009: return .rateLimited(after: nil, reason: reason)
        default: return .permanent(reason: reason)
        }
    }
}
