import Foundation
import GridcastCore
import Transport

/// Discord webhook: `POST https://discord.com/api/v10/webhooks/{id}/{token}?wait=true` with `{"content": …}`.
///
/// The API version is pinned: a URL without one (`/api/webhooks/…`, as Discord hands them out) gets API v6 answers,
/// whose `Retry-After` and `retry_after` are milliseconds; v10's are seconds, which is what this sink reads.
/// `wait=true` is always added: without it Discord answers 204 before the message is saved, even when saving
/// fails. Mentions are off unless the group sets `mention_all` (then `@everyone` only, inside the 2,000
/// characters). A group's `thread_name` goes in the body (a forum channel needs it). 2xx is sent; 429 pauses the
/// webhook for `Retry-After` (or the body's `retry_after`); 5xx follow ``ServerErrorRule``; `10015` unknown webhook,
/// `50027` invalid token and other client errors are permanent. Discord publishes no fixed rate: pacing follows the
/// `X-RateLimit-*` headers of each answer.
public struct DiscordSink: Sink {
    public let name = "discord"
    /// None hard-coded: see ``pacing(after:)``.
    public let rate: RateLimit? = nil

    /// Message content is limited to 2000 characters, `@everyone ` included.
    public func limit(for group: Group) -> TextLimit { .characters(2000) }

    /// The API version every request names.
    static let apiVersion = "v10"

    public func measure(_ message: OutgoingMessage) -> Int { Self.content(of: message).utf16.count }

    /// The message's `content`: its text, after `@everyone ` when it mentions everyone.
    static func content(of message: OutgoingMessage) -> String {
        message.mentionsAll ? "@everyone " + message.text : message.text
    }

    /// Creates the sink.
    public init() {}

    /// Discord shows markdown; the text format gets plain text all the same.
    public func rendersMarkdown(for group: Group) -> Bool { group.format == .markdown }

    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] {
        guard let range = address.path.range(of: "/webhooks/"),
            address.path[range.upperBound...].split(separator: "/").count == 2
        else {
            return [GroupProblem(field: "url", message: "discord url path must be /api/webhooks/{id}/{token}")]
        }
        return []
    }

    /// The poster is uploaded with the last text part (`files[0]`), shown under its text.
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling { .withText }

    /// Webhook uploads are limited to 10 MiB a message.
    public func posterLimit(for group: Group) -> PosterLimit? {
        PosterLimit(bytes: 10 * 1024 * 1024, label: "10 MiB")
    }

    /// The card is an embed on the last text part.
    public func cardHandling(for group: Group) -> CardHandling { .withText }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        var body = JSONWriter()
        body.field("content", Self.content(of: message))
        body.object("allowed_mentions") { mentions in
            mentions.field("parse", message.mentionsAll ? ["everyone"] : [String]())
        }
        if let thread = message.group.threadName, !thread.isEmpty {
            body.field("thread_name", thread)
        }
        let url = Self.waiting(Self.versioned(message.group.url))
        let last = message.part == message.partCount
        if last, let card = message.notice.link {
            var embed = JSONWriter()
            embed.field("title", String((card.title.isEmpty ? card.url : card.title).prefix(256)))
            embed.field("url", card.url)
            if !card.description.isEmpty { embed.field("description", String(card.description.prefix(4096))) }
            if let picture = card.pictureURL {
                embed.object("thumbnail") { thumbnail in thumbnail.field("url", picture) }
            }
            body.array("embeds", objects: [embed])
        }
        guard last, let poster = message.notice.poster else { return message.jsonRequest(body.finished, to: url) }
        let filename = poster.filename
        var attachment = JSONWriter()
        attachment.field("id", 0)
        attachment.field("filename", filename)
        body.array("attachments", objects: [attachment])
        var form = MultipartForm(seed: poster.sha256 + message.partID)
        form.field("payload_json", String(decoding: body.finished, as: UTF8.self), contentType: "application/json")
        form.file("files[0]", filename: filename, contentType: poster.format.contentType, poster.bytes)
        return HTTPRequest(
            url: url, headers: [HTTPHeader("Content-Type", form.contentType)], body: form.finished,
            timeout: message.timeout)
    }

    /// `url` with `wait=true` as its only `wait` parameter; other parameters (`thread_id`…) kept as written.
    static func waiting(_ url: String) -> String {
        QueryRewrite.setting([("wait", "true")], in: url)
    }

    /// `url` calling ``apiVersion``: `/api/webhooks/…` and `/api/vN/webhooks/…` become `/api/v10/webhooks/…`.
    static func versioned(_ url: String) -> String {
        let pathEnd = url.firstIndex(of: "?") ?? url.endIndex
        guard let api = url.range(of: "/api/", range: url.startIndex..<pathEnd),
            let webhooks = url.range(of: "webhooks/", range: api.upperBound..<pathEnd)
        else { return url }
        let between = url[api.upperBound..<webhooks.lowerBound]
        guard
            between.isEmpty
                || (between.hasPrefix("v") && between.dropFirst().dropLast().allSatisfy(\.isNumber)
                    && between.hasSuffix("/"))
        else { return url }
        return String(url[..<api.upperBound]) + Self.apiVersion + "/" + url[webhooks.lowerBound...]
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        let status = response.status
        let object = JSONBody.object(response.body)
        var reason = "HTTP \(status)"
        if let object {
            if let code = JSONBody.int(object, "code"), code != 0 { reason += ": code \(code)" }
            let message = JSONBody.message(object, "message")
            if !message.isEmpty { reason += ": \(message)" }
        }
        switch status {
        case 200...299:
            return .sent
        case 429:
            var after = RetryAfter.delay(in: response)
            if after == nil, let object, let seconds = (object["retry_after"] as? NSNumber)?.doubleValue {
                after = Self.duration(seconds: seconds)
            }
            return .rateLimited(after: after, reason: reason)
        case 500...599:
            return ServerErrorRule.verdict(for: response, reason: reason)!
        default:
            return .permanent(reason: reason)
        }
    }

    /// When the answer says this webhook's bucket is empty (`X-RateLimit-Remaining: 0`), the wait until it refills
    /// (`X-RateLimit-Reset-After`, fractional seconds).
    public func pacing(after response: HTTPResponse) -> Duration? {
        guard response.header("x-ratelimit-remaining")?.trimmingCharacters(in: .whitespaces) == "0",
            let text = response.header("x-ratelimit-reset-after"),
            let seconds = Double(text.trimmingCharacters(in: .whitespaces))
        else { return nil }
        return Self.duration(seconds: seconds)
    }

    /// Seconds as a duration, capped at one day; nil for negative or non-finite values.
    static func duration(seconds: Double) -> Duration? {
        guard seconds >= 0, seconds.isFinite else { return nil }
        return .milliseconds(Int64((min(seconds, 86_400) * 1000).rounded()))
    }
}
