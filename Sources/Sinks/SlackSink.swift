import Foundation
import GridcastCore
import Transport

/// Slack incoming webhook: `POST https://hooks.slack.com/services/T…/B…/X…` with `{"text": …}` (mrkdwn).
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

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        var body = JSONWriter()
        body.field("text", message.mentionsAll ? "<!channel> " + message.text : message.text)
        return message.jsonRequest(body.finished)
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        let status = response.status
        let text = String(response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
        let reason = text.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(text)"
        if status == 200 && response.body == Array("ok".utf8) { return .sent }
        return PlainStatus.verdict(for: response, reason: reason)
    }
}
