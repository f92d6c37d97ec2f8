import Foundation
import GridcastCore

/// Microsoft Teams Workflows webhooks: any POST whose path has a `/workflows/` segment or ends in `/invoke` — Logic
/// Apps' `/workflows/{id}/triggers/manual/paths/invoke` and Power Platform's
/// `/powerautomate/automations/direct/workflows/{id}/triggers/manual/paths/invoke` alike. The bot is the path plus the
/// `sig` query parameter (the URL's secret): a wrong `sig` is refused with 401.
///
/// Takes a `message` with Adaptive Card attachments and answers 202 Accepted with an empty body; errors are Azure's
/// `{"error":{"code","message"}}` objects.
struct TeamsEmulation: PlatformEmulation {
    let sink = "teams"
    let perMinuteLimit: Int? = 60

    func accepts(_ request: EmulatedRequest) -> Bool {
        request.path.contains("/workflows/") || request.path.hasSuffix("/invoke")
    }

    func botKey(of request: EmulatedRequest) -> String {
        "teams:" + request.path + "?sig=" + (request.query["sig"] ?? "")
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == sink, let components = URLComponents(string: group.url) else { return nil }
        let sig = components.queryItems?.first(where: { $0.name == "sig" })?.value ?? ""
        return "teams:" + components.percentEncodedPath + "?sig=" + sig
    }

    private func error(
        _ status: Int, _ code: String, _ message: String, headers: [String: String] = [:]
    )
        -> EmulatedAction
    {
        .json(status, #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#, headers: headers)
    }

    func unknownBot() -> EmulatedAction {
        error(401, "DirectApiInvalidAuthorizationSignature", "The provided authorization signature is not valid.")
    }

    func accepted() -> EmulatedAction {
        .respond(status: 202, headers: [:], body: "")
    }

    func tooFast() -> EmulatedAction {
        error(429, "TooManyRequests", "Rate limit is exceeded. Try again later.", headers: ["retry-after": "1"])
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault {
            rateLimited = error(
                429, "TooManyRequests", "Rate limit is exceeded. Try again later.",
                headers: ["retry-after": "\(seconds)"])
        }
        return answer(
            for: fault, busy: error(503, "ServiceUnavailable", "The service is temporarily unavailable."),
            rateLimited: rateLimited, permanent: error(404, "WorkflowNotFound", "The workflow could not be found.")
        )
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (error(405, "MethodNotAllowed", "Use POST."), nil) }
        if request.body.count > 28 * 1024 {
            return (error(413, "MessageTooLarge", "The message exceeds the 28 KB Teams allows."), nil)
        }
        let invalid = error(400, "InvalidRequestContent", "Expected a message with an Adaptive Card attachment.")
        guard let body = Self.jsonObject(request.body), body["type"] as? String == "message",
            let attachments = body["attachments"] as? [[String: Any]], !attachments.isEmpty
        else { return (invalid, nil) }
        // The text the channel shows: every TextBlock of every Adaptive Card, in order.
        var texts: [String] = []
        var image: ReceivedImage?
        var link: ReceivedCard?
        for attachment in attachments {
            guard attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive",
                let card = attachment["content"] as? [String: Any], card["type"] as? String == "AdaptiveCard",
                let blocks = card["body"] as? [[String: Any]]
            else { return (invalid, nil) }
            texts += blocks.compactMap { $0["type"] as? String == "TextBlock" ? $0["text"] as? String : nil }
            for element in blocks where element["type"] as? String == "Image" {
                guard let url = element["url"] as? String, url.hasPrefix("http") else { return (invalid, nil) }
                image = ReceivedImage(sha256: "", size: 0, url: url)
            }
            for action in card["actions"] as? [[String: Any]] ?? [] where action["type"] as? String == "Action.OpenUrl"
            {
                guard let url = action["url"] as? String, !url.isEmpty, let title = action["title"] as? String else {
                    return (invalid, nil)
                }
                link = ReceivedCard(url: url, title: title)
            }
        }
        let text = texts.joined(separator: "\n")
        if text.isEmpty { return (invalid, nil) }
        var message = ReceivedMessage(
            group: group?.id ?? "teams:" + request.path, sink: sink, text: text, webhookID: nil, mentionAll: false,
            receivedAt: now
        )
        message.image = image
        message.card = link
        return (accepted(), message)
    }
}
