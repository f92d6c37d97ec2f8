import Foundation
import GridcastCore

/// WeCom group robot at `/cgi-bin/webhook/send?key=KEY`: errcode answers inside HTTP 200, text ≤ 2048 bytes,
/// markdown ≤ 4096 bytes, 20 messages a minute per robot.
struct WeComEmulation: PlatformEmulation {
    let sink = "wecom"
    let perMinuteLimit: Int? = 20

    func accepts(_ request: EmulatedRequest) -> Bool {
        request.path == "/cgi-bin/webhook/send"
    }

    func botKey(of request: EmulatedRequest) -> String {
        "wecom:" + (request.query["key"] ?? "")
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == sink, let components = URLComponents(string: group.url) else { return nil }
        return "wecom:" + (components.queryItems?.first(where: { $0.name == "key" })?.value ?? "")
    }

    private func errcode(_ code: Int, _ message: String, headers: [String: String] = [:]) -> EmulatedAction {
        .json(200, #"{"errcode":\#(code),"errmsg":"\#(message)"}"#, headers: headers)
    }

    func unknownBot() -> EmulatedAction {
        errcode(93000, "invalid webhook url, hint: [emulator]")
    }

    func accepted() -> EmulatedAction {
        errcode(0, "ok")
    }

    func tooFast() -> EmulatedAction {
        errcode(45009, "api freq out of limit")
    }

    func carriesImage(_ request: EmulatedRequest) -> Bool {
        Self.jsonObject(request.body)?["msgtype"] as? String == "image"
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        if fault == .badImage { return errcode(301019, "media md5 not match") }
        // A fault's `retry_after` also comes as a `Retry-After` header beside the errcode.
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault {
            rateLimited = errcode(45009, "api freq out of limit", headers: ["retry-after": "\(seconds)"])
        }
        return answer(
            for: fault, busy: errcode(-1, "system busy"), rateLimited: rateLimited,
            permanent: errcode(93000, "invalid webhook url")
        )
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (.respond(status: 405, headers: [:], body: ""), nil) }
        guard let body = Self.jsonObject(request.body), let type = body["msgtype"] as? String else {
            return (errcode(40008, "invalid message type"), nil)
        }
        let content: String
        let limit: Int
        var mentionAll = false
        switch type {
        case "image":
            return image(body, request: request, group: group, now: now)
        case "news":
            return news(body, request: request, group: group, now: now)
        case "text":
            guard let text = body["text"] as? [String: Any], let value = text["content"] as? String else {
                return (errcode(44004, "empty content"), nil)
            }
            content = value
            limit = 2048
            mentionAll = (text["mentioned_list"] as? [String])?.contains("@all") ?? false
        case "markdown":
            guard let markdown = body["markdown"] as? [String: Any], let value = markdown["content"] as? String else {
                return (errcode(44004, "empty content"), nil)
            }
            content = value
            limit = 4096
        default:
            return (errcode(40008, "invalid message type"), nil)
        }
        if content.isEmpty { return (errcode(44004, "empty content"), nil) }
        if content.utf8.count > limit {
            return (errcode(40058, "content exceed max length \(limit)"), nil)
        }
        let message = ReceivedMessage(
            group: group?.id ?? botKey(of: request), sink: sink, text: content, webhookID: nil,
            mentionAll: mentionAll, receivedAt: now
        )
        return (accepted(), message)
    }

    /// An image message: `image.base64` must decode to a JPG or PNG of at most 2 MB whose MD5 is `image.md5`.
    private func image(
        _ body: [String: Any], request: EmulatedRequest, group: Group?, now: Date
    ) -> (EmulatedAction, ReceivedMessage?) {
        guard let image = body["image"] as? [String: Any], let base64 = image["base64"] as? String,
            let md5 = image["md5"] as? String, !base64.isEmpty
        else {
            return (errcode(44004, "empty content"), nil)
        }
        guard let data = Data(base64Encoded: base64) else { return (errcode(40009, "invalid image size"), nil) }
        let bytes = [UInt8](data)
        if bytes.count > 2 * 1024 * 1024 { return (errcode(40009, "invalid image size, hint: over 2 MB"), nil) }
        guard Poster.format(of: bytes) != nil else { return (errcode(40005, "invalid file type"), nil) }
        let poster = try? Poster(bytes: bytes)
        guard let poster, poster.md5 == md5.lowercased() else {
            return (errcode(301019, "media md5 not match"), nil)
        }
        var message = ReceivedMessage(
            group: group?.id ?? botKey(of: request), sink: sink, text: "", webhookID: nil, mentionAll: false,
            receivedAt: now
        )
        message.image = ReceivedImage(uploaded: bytes, sha256: poster.sha256)
        return (accepted(), message)
    }

    /// A news message: 1–8 articles, each with a title (≤ 128 bytes) and a url; description ≤ 512 bytes.
    private func news(
        _ body: [String: Any], request: EmulatedRequest, group: Group?, now: Date
    ) -> (EmulatedAction, ReceivedMessage?) {
        guard let news = body["news"] as? [String: Any], let articles = news["articles"] as? [[String: Any]],
            (1...8).contains(articles.count)
        else {
            return (errcode(40063, "invalid articles, hint: 1 to 8 articles"), nil)
        }
        for article in articles {
            guard let title = article["title"] as? String, !title.isEmpty, let url = article["url"] as? String,
                !url.isEmpty
            else {
                return (errcode(40063, "article title and url are required"), nil)
            }
            if title.utf8.count > 128 || ((article["description"] as? String)?.utf8.count ?? 0) > 512 {
                return (errcode(40058, "article title or description exceed max length"), nil)
            }
        }
        var message = ReceivedMessage(
            group: group?.id ?? botKey(of: request), sink: sink, text: "", webhookID: nil, mentionAll: false,
            receivedAt: now
        )
        if let first = articles.first, let title = first["title"] as? String, let url = first["url"] as? String {
            message.card = ReceivedCard(url: url, title: title)
        }
        return (accepted(), message)
    }
}
