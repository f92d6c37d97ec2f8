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

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
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
}
