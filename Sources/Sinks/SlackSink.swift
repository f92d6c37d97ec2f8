import Foundation
import GridcastCore
import Transport

/// Slack incoming webhook: `POST https://hooks.slack.com/services/T…/B…/X…` with `{"text": …}` (mrkdwn).
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

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        var body = JSONWriter()
        body.field("text", Self.text(of: message))
        return message.jsonRequest(body.finished)
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
