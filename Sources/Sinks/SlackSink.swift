import Foundation
import GridcastCore
import Transport

/// Slack incoming webhook: `POST https://hooks.slack.com/services/T…/B…/X…` with `{"text": …}` (mrkdwn), and
/// `blocks` (the text, the poster's image, the card's link) on a poster or card notice's last part.
///
/// The text's `&`, `<` and `>` are escaped (`&amp;`, `&lt;`, `&gt;`), as Slack's formatting rules ask: unescaped,
/// Slack reads `<…>` as a link or a mention and the words inside are lost. Only the `<!channel>` mention is markup.
///
/// Sent only on HTTP 200 with the body exactly `ok`; another 200 body is "outcome unknown". HTTP 429 pauses the
/// webhook for `Retry-After`, 5xx follow ``ServerErrorRule``, and 400 `invalid_payload`, 403 `action_prohibited`,
/// 404 `channel_not_found`, 410 `channel_is_archived` and other client errors are permanent.
public struct SlackSink: Sink {
    public let name = "slack"
    /// About one message a second per webhook.
    public let rate: RateLimit? = .perSecond(1)

    /// Slack accepts up to 40000 characters but truncates long messages in the channel; 3000 keeps each part
    /// readable.
    public func limit(for group: Group) -> TextLimit { .characters(3000) }

    /// Creates the sink.
    public init() {}

    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] {
        guard address.path.hasPrefix("/services/") else {
            return [GroupProblem(field: "url", message: "slack url path must be /services/T…/B…/…")]
        }
        return []
    }

    /// The limit counts the text as sent: escapes and mention included.
    public func measure(_ message: OutgoingMessage) -> Int { Self.text(of: message).utf16.count }

    /// Slack shows an image only by its public address: an `image` block when the poster has one.
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling {
        poster.url == nil
            ? .notShown(reason: "slack shows images only by address and the notice has no image_url") : .withText
    }

    /// The card is a section with the link, after the text.
    public func cardHandling(for group: Group) -> CardHandling { .withText }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        var body = JSONWriter()
        let text = Self.text(of: message)
        body.field("text", text)
        let blocks = Self.richBlocks(of: message)
        if !blocks.isEmpty {
            body.array("blocks", objects: [Self.section(text)] + blocks)
        }
        return message.jsonRequest(body.finished)
    }

    /// The last part's poster (`image` block by address) and card (a section with the link), when the notice has
    /// them (docs/rich-notices.md).
    static func richBlocks(of message: OutgoingMessage) -> [JSONWriter] {
        guard message.part == message.partCount else { return [] }
        var blocks: [JSONWriter] = []
        if let poster = message.notice.poster, let url = poster.url {
            var image = JSONWriter()
            image.field("type", "image")
            image.field("image_url", url)
            image.field("alt_text", message.notice.title.isEmpty ? "海报" : String(message.notice.title.prefix(2000)))
            blocks.append(image)
        }
        if let card = message.notice.link {
            let title = escaped(card.title.isEmpty ? card.url : card.title).replacingOccurrences(of: "|", with: "¦")
            var line = "<\(card.url)|\(title)>"
            if !card.description.isEmpty { line += "\n" + escaped(card.description) }
            blocks.append(section(String(line.prefix(3000))))
        }
        return blocks
    }

    /// A `section` block of mrkdwn text.
    static func section(_ text: String) -> JSONWriter {
        var section = JSONWriter()
        section.field("type", "section")
        section.object("text") { object in
            object.field("type", "mrkdwn")
            object.field("text", text)
        }
        return section
    }

    /// The `text` field: the message escaped, after `<!channel> ` when it mentions everyone.
    static func text(of message: OutgoingMessage) -> String {
        let escaped = escaped(message.text)
        return message.mentionsAll ? "<!channel> " + escaped : escaped
    }

    /// `&`, `<` and `>` as Slack's formatting rules want them in text.
    static func escaped(_ text: String) -> String {
        let marks: [UInt8] = [UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">")]
        guard text.utf8.contains(where: marks.contains) else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        let status = response.status
        let text = String(response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
        let reason = text.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(text)"
        if status == 200 && response.body == Array("ok".utf8) { return .sent }
        return PlainStatus.verdict(for: response, reason: reason)
    }
}
