import Foundation
import GridcastCore

/// Discord webhooks at `/api/webhooks/{id}/{token}` (or `/api/v10/webhooks/…`): JSON errors with Discord's codes,
/// content up to 2000 characters, 429 with `Retry-After`, `X-RateLimit-*` headers and a float `retry_after`.
///
/// Like the real platform, a request without `wait=true` gets 204 No Content, which says nothing about whether the
/// message was saved: here it is never saved, so a sender that forgets `wait=true` loses messages visibly.
struct DiscordEmulation: PlatformEmulation {
    let sink = "discord"
    /// 30 messages a minute per channel.
    let perMinuteLimit: Int? = 30

    func accepts(_ request: EmulatedRequest) -> Bool {
        Self.webhook(request.path) != nil
    }

    func botKey(of request: EmulatedRequest) -> String {
        "discord:" + (Self.webhook(request.path) ?? "")
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == sink, let components = URLComponents(string: group.url),
            let webhook = Self.webhook(components.percentEncodedPath)
        else { return nil }
        return "discord:" + webhook
    }

    /// `{id}/{token}` from `/api[/vN]/webhooks/{id}/{token}`.
    private static func webhook(_ path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        // ["", "api", ("v10",) "webhooks", id, token]
        guard segments.count >= 5, segments[0].isEmpty, segments[1] == "api" else { return nil }
        let rest = segments[2] == "webhooks" ? segments[3...] : segments[3] == "webhooks" ? segments[4...] : []
        guard rest.count == 2, rest.allSatisfy({ !$0.isEmpty }) else { return nil }
        return rest.joined(separator: "/")
    }

    private func error(_ status: Int, _ code: Int, _ message: String, extra: String = "") -> EmulatedAction {
        .json(status, #"{"message":"\#(message)","code":\#(code)\#(extra)}"#)
    }

    private func tooManyRequests(_ seconds: Double) -> EmulatedAction {
        let text = String(format: "%.3f", seconds)
        return .json(
            429, #"{"message":"You are being rate limited.","retry_after":\#(text),"global":false}"#,
            headers: [
                "retry-after": String(Int(seconds.rounded(.up))), "x-ratelimit-limit": "5",
                "x-ratelimit-remaining": "0", "x-ratelimit-reset-after": text, "x-ratelimit-scope": "shared",
            ]
        )
    }

    func unknownBot() -> EmulatedAction {
        error(404, 10015, "Unknown Webhook")
    }

    func accepted() -> EmulatedAction {
        .json(200, #"{"id":"1","type":0,"channel_id":"1","webhook_id":"1"}"#)
    }

    func tooFast() -> EmulatedAction {
        tooManyRequests(2)
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault { rateLimited = tooManyRequests(Double(seconds)) }
        return answer(
            for: fault, busy: error(503, 0, "Service Unavailable"), rateLimited: rateLimited,
            permanent: error(401, 50027, "Invalid Webhook Token")
        )
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (error(405, 0, "405: Method Not Allowed"), nil) }
        guard request.query["wait"] == "true" else {
            // The real trap: 204 before the message is saved, whether or not saving then works.
            return (.respond(status: 204, headers: [:], body: ""), nil)
        }
        guard let body = Self.jsonObject(request.body) else {
            return (error(400, 50109, "The request body contains invalid JSON."), nil)
        }
        guard var content = body["content"] as? String, !content.isEmpty else {
            return (error(400, 50006, "Cannot send an empty message"), nil)
        }
        if content.unicodeScalars.count > 2000 {
            return (
                error(
                    400, 50035, "Invalid Form Body",
                    extra:
                        #","errors":{"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 2000 or fewer in length."}]}}"#
                ), nil
            )
        }
        // @everyone pings only when allowed_mentions lets it (no allowed_mentions: Discord parses everything).
        let allowed = body["allowed_mentions"] as? [String: Any]
        let parse = allowed.map { ($0["parse"] as? [String]) ?? [] } ?? ["everyone"]
        var mentionAll = false
        if content.hasPrefix("@everyone"), parse.contains("everyone") {
            mentionAll = true
            content = String(content.dropFirst("@everyone".count).drop { $0 == " " })
        }
        let id = Self.webhook(request.path)?.split(separator: "/").first.map(String.init) ?? "1"
        let message = ReceivedMessage(
            group: group?.id ?? "discord:\(id)", sink: sink, text: content, webhookID: nil, mentionAll: mentionAll,
            receivedAt: now
        )
        let saved =
            #"{"id":"\#(Int(now.timeIntervalSince1970 * 1000))","type":0,"channel_id":"1","webhook_id":"\#(id)"}"#
        return (.json(200, saved), message)
    }
}
