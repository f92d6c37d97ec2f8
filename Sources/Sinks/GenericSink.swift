import Foundation
import GridcastCore
import Transport

/// A generic signed webhook per the Standard Webhooks spec.
///
/// The body is `{id, notice_id, group_id, title, text, urgent, created_at}` (plus `part`/`parts`, and on the first
/// part the notice's `image` and `link`: docs/rich-notices.md); `webhook-id` is the delivery's stable id, so a
/// receiver that dedupes on it gets exactly-once end to end. 2xx is success; 429 and 502/503/504 are retried
/// honouring `Retry-After`; 410 and other 4xx are permanent; redirects are never followed.
public struct GenericSink: Sink {
    public let name = "generic"
    /// Receivers publish no limit; `rate:` on the group sets one.
    public let rate: RateLimit? = nil

    /// Bodies up to about 60 KB, far past any notice.
    public func limit(for group: Group) -> TextLimit { .bytes(60_000) }

    /// Creates the sink.
    public init() {}

    /// The receiver gets the markdown as written with `format: markdown`, plain text otherwise.
    public func rendersMarkdown(for group: Group) -> Bool { group.format == .markdown }

    /// The poster rides in the first part's JSON: `image {content_type, sha256, size, url|data}`.
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling { .withText }

    /// The card rides in the first part's JSON as `link`.
    public func cardHandling(for group: Group) -> CardHandling { .withText }

    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] {
        guard let secret = group.secret else {
            return [
                GroupProblem(field: "url", message: "generic sink needs secret: whsec_… (Standard Webhooks signing)")
            ]
        }
        if StandardWebhooks(secret: secret) == nil {
            return [GroupProblem(field: "secret", message: "generic secret must be 'whsec_' followed by Base64")]
        }
        return []
    }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        guard let secret = message.group.secret, let signer = StandardWebhooks(secret: secret) else {
            throw RenderError("group \(message.group.id): generic sink needs a whsec_ secret")
        }
        var payload = JSONWriter()
        payload.field("id", message.partID)
        payload.field("notice_id", message.notice.id)
        payload.field("group_id", message.group.id)
        payload.field("title", message.notice.title)
        payload.field("text", message.text)
        payload.field("urgent", message.notice.urgent)
        payload.field("created_at", ISO8601DateFormatter().string(from: message.noticeCreatedAt))
        payload.field("part", message.part)
        payload.field("parts", message.partCount)
        if message.part == 1 {
            if let poster = message.notice.poster {
                payload.object("image") { image in
                    image.field("content_type", poster.format.contentType)
                    image.field("sha256", poster.sha256)
                    image.field("size", poster.bytes.count)
                    if let url = poster.url {
                        image.field("url", url)
                    } else {
                        image.field("data", Data(poster.bytes).base64EncodedString())
                    }
                }
            }
            if let card = message.notice.link {
                payload.object("link") { link in
                    link.field("url", card.url)
                    link.field("title", card.title)
                    link.field("description", card.description)
                    if let picture = card.pictureURL { link.field("picurl", picture) }
                }
            }
        }
        let body = payload.finished
        let timestamp = Int(now.timeIntervalSince1970)
        return HTTPRequest(
            url: message.group.url,
            headers: [
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("webhook-id", message.partID),
                HTTPHeader("webhook-timestamp", String(timestamp)),
                HTTPHeader("webhook-signature", signer.signature(id: message.partID, timestamp: timestamp, body: body)),
            ],
            body: body,
            timeout: message.timeout
        )
    }

    /// Standard Webhooks receivers deduplicate on `webhook-id`, the delivery id.
    public var deduplicates: Bool { true }

    public func classify(_ response: HTTPResponse) -> Verdict {
        let status = response.status
        switch status {
        case 200...299:
            return .sent
        case 429:
            return .rateLimited(after: RetryAfter.delay(in: response), reason: "HTTP 429")
        case 500, 502, 503, 504:
            return .retry(after: RetryAfter.delay(in: response), reason: "HTTP \(status)")
        case 300...399:
            return .permanent(reason: "HTTP \(status): redirects are not followed")
        case 410:
            return .permanent(reason: "HTTP 410: endpoint gone")
        default:
            return .permanent(reason: "HTTP \(status)")
        }
    }
}
