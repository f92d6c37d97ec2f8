import Crypto
import Foundation
import GridcastCore

/// Feishu and Lark custom bots at `/open-apis/bot/v2/hook/TOKEN` (both hosts serve the same path, so one emulation
/// plays both; the configured group's `sink` says which): `code` answers inside HTTP 200, `timestamp` + `sign` body
/// fields (within one hour) and custom keywords checked when the group has them, a request body of at most 20,000
/// bytes (`9499`), 5 messages a second and 100 a minute per bot. An image message must name an `image_key` that an
/// app uploaded (``FeishuAppEmulation``).
struct FeishuEmulation: PlatformEmulation {
    let sink = "feishu"
    let perMinuteLimit: Int? = 100
    let rateWindows = [RateWindow(count: 5, seconds: 1), RateWindow(count: 100, seconds: 60)]
    /// The largest request body Feishu takes ("20 K"; read strictly).
    static let maxBody = 20000

    private static let prefix = "/open-apis/bot/v2/hook/"

    func accepts(_ request: EmulatedRequest) -> Bool {
        request.path.hasPrefix(Self.prefix) && request.path.count > Self.prefix.count
    }

    func botKey(of request: EmulatedRequest) -> String {
        "feishu:" + request.path.dropFirst(Self.prefix.count)
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == "feishu" || group.sink == "lark", let components = URLComponents(string: group.url),
            components.path.hasPrefix(Self.prefix)
        else { return nil }
        return "feishu:" + components.path.dropFirst(Self.prefix.count)
    }

    private func code(_ code: Int, _ message: String, headers: [String: String] = [:]) -> EmulatedAction {
        .json(200, #"{"code":\#(code),"data":{},"msg":"\#(message)"}"#, headers: headers)
    }

    func unknownBot() -> EmulatedAction {
        code(19001, "param invalid: incoming webhook access token invalid")
    }

    func accepted() -> EmulatedAction {
        .json(200, #"{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}"#)
    }

    func tooFast() -> EmulatedAction {
        tooFast(headers: [:])
    }

    private func tooFast(headers: [String: String]) -> EmulatedAction {
        code(11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]", headers: headers)
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        // A fault's `retry_after` also comes as a `Retry-After` header beside the code.
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault { rateLimited = tooFast(headers: ["retry-after": "\(seconds)"]) }
        return answer(
            for: fault, busy: .respond(status: 503, headers: [:], body: "Service Unavailable"),
            rateLimited: rateLimited, permanent: unknownBot()
        )
    }

    /// The signature Feishu expects, computed here rather than by the sink under test.
    static func expectedSign(secret: String, timestamp: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: [UInt8](), using: SymmetricKey(data: Array("\(timestamp)\n\(secret)".utf8)))
        return Data(mac).base64EncodedString()
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (.respond(status: 405, headers: [:], body: ""), nil) }
        if request.body.count > Self.maxBody { return (code(9499, "Bad Request"), nil) }
        guard let body = Self.jsonObject(request.body) else { return (code(9499, "Bad Request"), nil) }
        if let secret = group?.secret, !secret.isEmpty {
            let timestamp = (body["timestamp"] as? String) ?? (body["timestamp"] as? NSNumber)?.stringValue
            guard let timestamp, let seconds = Double(timestamp),
                abs(seconds - now.timeIntervalSince1970) <= 3600,
                body["sign"] as? String == Self.expectedSign(secret: secret, timestamp: timestamp)
            else {
                return (code(19021, "sign match fail or timestamp is not within one hour from current time"), nil)
            }
        }
        var text: String
        var mentionAll = false
        var received: ReceivedCard?
        switch body["msg_type"] as? String {
        case "post":
            guard let content = body["content"] as? [String: Any], let post = content["post"] as? [String: Any],
                let language = post.values.first as? [String: Any],
                let lines = language["content"] as? [[[String: Any]]]
            else { return (code(9499, "Bad Request"), nil) }
            var shown: [String] = []
            for line in lines {
                var words = ""
                for element in line {
                    switch element["tag"] as? String {
                    case "text": words += (element["text"] as? String) ?? ""
                    case "at" where element["user_id"] as? String == "all": mentionAll = true
                    case "a":
                        guard let href = element["href"] as? String, !href.isEmpty,
                            let label = element["text"] as? String
                        else { return (code(9499, "Bad Request"), nil) }
                        words += label
                        received = received ?? ReceivedCard(url: href, title: label)
                    default: return (code(9499, "Bad Request"), nil)
                    }
                }
                shown.append(words)
            }
            text = shown.joined(separator: "\n")
        case "text":
            guard let content = body["content"] as? [String: Any], let value = content["text"] as? String else {
                return (code(9499, "Bad Request"), nil)
            }
            text = value
            for mention in [#"<at user_id="all">所有人</at>"#, #"<at user_id="all"></at>"#] where text.hasPrefix(mention) {
                mentionAll = true
                text = String(text.dropFirst(mention.count).drop { $0 == " " })
            }
        case "interactive":
            // The card's lark_md blocks, as the group reads them.
            guard let card = body["card"] as? [String: Any], let elements = card["elements"] as? [[String: Any]]
            else { return (code(9499, "Bad Request"), nil) }
            for element in elements where element["tag"] as? String == "action" {
                for button in element["actions"] as? [[String: Any]] ?? [] {
                    guard let url = button["url"] as? String, !url.isEmpty,
                        let label = (button["text"] as? [String: Any])?["content"] as? String
                    else { return (code(9499, "Bad Request"), nil) }
                    received = received ?? ReceivedCard(url: url, title: label)
                }
            }
            text = elements.compactMap { element -> String? in
                guard let inner = element["text"] as? [String: Any], inner["tag"] as? String == "lark_md" else {
                    return nil
                }
                return inner["content"] as? String
            }.joined(separator: "\n")
            if text.hasPrefix("<at id=all></at>") {
                mentionAll = true
                text = String(text.dropFirst("<at id=all></at>".count).drop { $0 == " " })
            }
        case "image":
            // An image message shows an image an app of the tenant uploaded, by its key.
            guard let content = body["content"] as? [String: Any], let key = content["image_key"] as? String,
                !key.isEmpty
            else { return (code(9499, "Bad Request"), nil) }
            guard let bytes = request.uploadedImages[key] else {
                return (code(9499, "Bad Request: image_key \(key) not found"), nil)
            }
            // A custom keyword must be in every message, and an image holds no text.
            if let keyword = group?.keyword, !keyword.isEmpty { return (code(19024, "Key Words Not Found"), nil) }
            var message = ReceivedMessage(
                group: group?.id ?? botKey(of: request), sink: group?.sink ?? sink, text: "", webhookID: nil,
                mentionAll: false, receivedAt: now
            )
            message.image = ReceivedImage(uploaded: bytes, sha256: DiscordEmulation.sha256(bytes))
            return (accepted(), message)
        case nil:
            return (code(9499, "Bad Request"), nil)
        case let type?:
            return (code(10208, "msg type \(type) not support"), nil)
        }
        if text.isEmpty { return (code(9499, "Bad Request"), nil) }
        if let keyword = group?.keyword, !keyword.isEmpty, !text.contains(keyword) {
            return (code(19024, "Key Words Not Found"), nil)
        }
        var message = ReceivedMessage(
            group: group?.id ?? botKey(of: request), sink: group?.sink ?? sink, text: text, webhookID: nil,
            mentionAll: mentionAll, receivedAt: now
        )
        message.card = received
        return (accepted(), message)
    }
}
