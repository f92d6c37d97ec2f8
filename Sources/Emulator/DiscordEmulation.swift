import Crypto
import Foundation
import GridcastCore

/// Discord webhooks at `/api/webhooks/{id}/{token}` (or `/api/v10/webhooks/…`): JSON errors with Discord's codes,
/// content up to 2000 characters, 5 requests per 2 seconds and 30 a minute per webhook, `X-RateLimit-*` headers on
/// every answer, and a 429 with `Retry-After` and a float `retry_after`: seconds on a versioned path, milliseconds on
/// an unversioned one, which Discord answers as API v6. A forum channel's `thread_name` is accepted.
///
/// Like the real platform, a request without `wait=true` gets 204 No Content, which says nothing about whether the
/// message was saved: here it is never saved, so a sender that forgets `wait=true` loses messages visibly.
struct DiscordEmulation: PlatformEmulation {
    let sink = "discord"
    /// 30 messages a minute per channel.
    let perMinuteLimit: Int? = 30
    /// The webhook's bucket, as its headers tell it.
    static let bucket = RateWindow(count: 5, seconds: 2)
    let rateWindows = [DiscordEmulation.bucket, RateWindow(count: 30, seconds: 60)]

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

    /// Whether the path names no API version: Discord then answers as v6, with waits in milliseconds.
    static func isUnversioned(_ path: String) -> Bool {
        path.hasPrefix("/api/webhooks/")
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

    /// A 429 asking for `seconds`; in milliseconds for a v6 (unversioned) path. `X-RateLimit-Reset-After` is in
    /// seconds in every version.
    private func tooManyRequests(_ seconds: Double, v6: Bool = false) -> EmulatedAction {
        let text = String(format: "%.3f", seconds)
        let wait = v6 ? String(Int((seconds * 1000).rounded(.up))) : text
        let header = v6 ? String(Int((seconds * 1000).rounded(.up))) : String(Int(seconds.rounded(.up)))
        return .json(
            429, #"{"message":"You are being rate limited.","retry_after":\#(wait),"global":false}"#,
            headers: [
                "retry-after": header, "x-ratelimit-limit": "5", "x-ratelimit-remaining": "0",
                "x-ratelimit-reset-after": text, "x-ratelimit-scope": "shared",
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

    func tooFast(for request: EmulatedRequest) -> EmulatedAction {
        tooManyRequests(2, v6: Self.isUnversioned(request.path))
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        answer(for: fault, v6: false)
    }

    func answer(for fault: FaultPlan.Fault, to request: EmulatedRequest) -> EmulatedAction {
        answer(for: fault, v6: Self.isUnversioned(request.path))
    }

    private func answer(for fault: FaultPlan.Fault, v6: Bool) -> EmulatedAction {
        var rateLimited = tooManyRequests(2, v6: v6)
        if case .rateLimit(let seconds?) = fault { rateLimited = tooManyRequests(Double(seconds), v6: v6) }
        return answer(
            for: fault, busy: error(503, 0, "Service Unavailable"), rateLimited: rateLimited,
            permanent: error(401, 50027, "Invalid Webhook Token")
        )
    }

    /// Every answer carries the bucket's `X-RateLimit-*` headers (an answer that already has them keeps its own):
    /// how many of the bucket's requests are left and when the oldest one counted leaves it.
    func finishing(_ action: EmulatedAction, recent: [Date], now: Date) -> EmulatedAction {
        guard case .respond(let status, var headers, let body) = action, headers["x-ratelimit-remaining"] == nil else {
            return action
        }
        let bucket = Self.bucket
        let counted = recent.filter { now.timeIntervalSince($0) < bucket.seconds }
        let resetAfter = counted.first.map { bucket.seconds - now.timeIntervalSince($0) } ?? bucket.seconds
        headers["x-ratelimit-limit"] = String(bucket.count)
        headers["x-ratelimit-remaining"] = String(max(0, bucket.count - counted.count))
        headers["x-ratelimit-reset-after"] = String(format: "%.3f", max(0, resetAfter))
        headers["x-ratelimit-bucket"] = "webhook"
        return .respond(status: status, headers: headers, body: body)
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (error(405, 0, "405: Method Not Allowed"), nil) }
        guard request.query["wait"] == "true" else {
            // The real trap: 204 before the message is saved, whether or not saving then works.
            return (.respond(status: 204, headers: [:], body: ""), nil)
        }
        var image: ReceivedImage?
        let json: [UInt8]
        if request.headers["content-type"]?.lowercased().hasPrefix("multipart/") == true {
            guard let form = MultipartBody(request.body, contentType: request.headers["content-type"]),
                let payload = form["payload_json"]
            else {
                return (error(400, 50035, "Invalid Form Body"), nil)
            }
            json = payload.data
            let files = form.parts.filter { $0.name.hasPrefix("files[") }
            if files.count > 10 { return (error(400, 50035, "Invalid Form Body"), nil) }
            if let file = files.first {
                guard file.filename?.isEmpty == false else { return (error(400, 50035, "Invalid Form Body"), nil) }
                if file.data.count > Self.maxUpload {
                    return (error(413, 40005, "Request entity too large"), nil)
                }
                image = ReceivedImage(uploaded: file.data, sha256: Self.sha256(file.data))
            }
        } else {
            json = request.body
        }
        guard let body = Self.jsonObject(json) else {
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
        if let thread = body["thread_name"], (thread as? String).map({ $0.isEmpty || $0.count > 100 }) ?? true {
            return (
                error(
                    400, 50035, "Invalid Form Body",
                    extra:
                        #","errors":{"thread_name":{"_errors":[{"code":"BASE_TYPE_BAD_LENGTH","message":"Must be between 1 and 100 in length."}]}}"#
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
        var message = ReceivedMessage(
            group: group?.id ?? "discord:\(id)", sink: sink, text: content, webhookID: nil, mentionAll: mentionAll,
            receivedAt: now
        )
        message.image = image
        if let embeds = body["embeds"] {
            guard let embeds = embeds as? [[String: Any]], embeds.count <= 10 else {
                return (error(400, 50035, "Invalid Form Body"), nil)
            }
            for embed in embeds {
                guard let title = embed["title"] as? String, title.count <= 256, let url = embed["url"] as? String,
                    url.hasPrefix("http"), ((embed["description"] as? String)?.count ?? 0) <= 4096
                else {
                    return (error(400, 50035, "Invalid Form Body"), nil)
                }
                message.card = ReceivedCard(url: url, title: title)
            }
        }
        let saved =
            #"{"id":"\#(Int(now.timeIntervalSince1970 * 1000))","type":0,"channel_id":"1","webhook_id":"\#(id)"}"#
        return (.json(200, saved), message)
    }

    /// The most a webhook may upload in one message.
    static let maxUpload = 10 * 1024 * 1024

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
