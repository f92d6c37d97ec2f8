import Foundation
import GridcastCore
import Transport

/// Microsoft Teams through a Workflows (Power Automate) webhook: `POST …/workflows/…/invoke?…&sig=SECRET` with a
/// message holding one Adaptive Card (version 1.4) with one wrapping `TextBlock`; on a poster or card notice's last
/// part also an `Image` by the poster's `image_url` and an `Action.OpenUrl` for the card.
///
/// HTTP 200 or 202 is ``Verdict/accepted``, not sent: the workflow took the message and posts it itself, and can fail
/// to without the sender ever being told, so the ledger records the delivery as `accepted` (`docs/ledger.md`). No
/// Workflows answer confirms a post. 429 pauses the
/// webhook for `Retry-After`, 5xx follow ``ServerErrorRule``, other client errors are permanent. `mention_all` is ignored: a
/// Workflows card can mention only people by id.
public struct TeamsSink: Sink {
    public let name = "teams"
    /// Microsoft publishes no per-webhook limit for Workflows; one a second is a reasonable default that keeps
    /// well below the flow trigger throttles. Set `rate:` on the group to change it.
    public let rate: RateLimit? = .perMinute(60)

    /// Teams messages are limited to about 28 KB including the card; 20000 bytes of text leaves room for it.
    public func limit(for group: Group) -> TextLimit { .bytes(20000) }

    /// Creates the sink.
    public init() {}

    /// An Adaptive Card's `TextBlock` shows a markdown subset (bold, italics, lists, links).
    public func rendersMarkdown(for group: Group) -> Bool { group.format == .markdown }

    /// An Adaptive Card shows an image by address: an `Image` element when the poster has one.
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling {
        poster.url == nil
            ? .notShown(reason: "teams shows images only by address and the notice has no image_url") : .withText
    }

    /// The card is the description and an `Action.OpenUrl` button, in the last part's Adaptive Card.
    public func cardHandling(for group: Group) -> CardHandling { .withText }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        var block = JSONWriter()
        block.field("type", "TextBlock")
        block.field("text", message.text)
        block.field("wrap", true)
        var elements = [block]
        var actions: [JSONWriter] = []
        if message.part == message.partCount {
            if let poster = message.notice.poster, let url = poster.url {
                var image = JSONWriter()
                image.field("type", "Image")
                image.field("url", url)
                image.field("altText", message.notice.title.isEmpty ? "海报" : message.notice.title)
                elements.append(image)
            }
            if let link = message.notice.link {
                if !link.description.isEmpty {
                    var description = JSONWriter()
                    description.field("type", "TextBlock")
                    description.field("text", link.description)
                    description.field("wrap", true)
                    description.field("isSubtle", true)
                    elements.append(description)
                }
                var open = JSONWriter()
                open.field("type", "Action.OpenUrl")
                open.field("title", link.title.isEmpty ? link.url : link.title)
                open.field("url", link.url)
                actions.append(open)
            }
        }
        var card = JSONWriter()
        card.field("type", "AdaptiveCard")
        card.field("version", "1.4")
        card.array("body", objects: elements)
        if !actions.isEmpty { card.array("actions", objects: actions) }
        var attachment = JSONWriter()
        attachment.field("contentType", "application/vnd.microsoft.card.adaptive")
        attachment.object("content", card)
        var body = JSONWriter()
        body.field("type", "message")
        body.array("attachments", objects: [attachment])
        return message.jsonRequest(body.finished)
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        let status = response.status
        var reason = "HTTP \(status)"
        if let object = JSONBody.object(response.body), let error = object["error"] as? [String: Any] {
            let code = JSONBody.message(error, "code")
            if !code.isEmpty { reason += ": \(code)" }
            let message = JSONBody.message(error, "message")
            if !message.isEmpty { reason += ": \(message)" }
        }
        if status == 200 || status == 202 { return .accepted }
        return PlainStatus.verdict(for: response, reason: reason)
    }
}
