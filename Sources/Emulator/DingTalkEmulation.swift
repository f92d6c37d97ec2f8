import Crypto
import Foundation
import GridcastCore

/// DingTalk custom robot at `/robot/send?access_token=TOKEN`: errcode answers inside HTTP 200, signatures
/// (`timestamp` + `sign` in the query, within one hour) and custom keywords checked when the group has them, a
/// request body of at most 20,000 bytes (`460101`), 20 messages a minute per robot, and a robot locked for ten
/// minutes after `130101` (too fast) or `90030` (quota): every request meanwhile gets the same answer.
struct DingTalkEmulation: PlatformEmulation {
    let sink = "dingtalk"
    let perMinuteLimit: Int? = 20

    /// The help link DingTalk appends to its security errors.
    private static let more = ", more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"

    func accepts(_ request: EmulatedRequest) -> Bool {
        request.path == "/robot/send"
    }

    func botKey(of request: EmulatedRequest) -> String {
        "dingtalk:" + (request.query["access_token"] ?? "")
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == sink, let components = URLComponents(string: group.url) else { return nil }
        return "dingtalk:" + (components.queryItems?.first(where: { $0.name == "access_token" })?.value ?? "")
    }

    private func errcode(_ code: Int, _ message: String, headers: [String: String] = [:]) -> EmulatedAction {
        .json(200, #"{"errcode":\#(code),"errmsg":"\#(message)"}"#, headers: headers)
    }

    func unknownBot() -> EmulatedAction {
        errcode(300001, "token is not exist")
    }

    func accepted() -> EmulatedAction {
        errcode(0, "ok")
    }

    func tooFast() -> EmulatedAction {
        errcode(130101, "send too fast, exceed 20 times per minute")
    }

    /// The largest request body DingTalk takes.
    static let maxBody = 20000

    func lockout(after action: EmulatedAction) -> TimeInterval? {
        guard case .respond(200, _, let body) = action,
            body.contains(#""errcode":130101"#) || body.contains(#""errcode":90030"#)
        else { return nil }
        return 600
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        // A fault's `retry_after` also comes as a `Retry-After` header beside the errcode.
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault {
            rateLimited = errcode(
                130101, "send too fast, exceed 20 times per minute", headers: ["retry-after": "\(seconds)"])
        }
        return answer(
            for: fault, busy: errcode(-1, "系统繁忙"), rateLimited: rateLimited,
            permanent: errcode(310000, "sign not match" + Self.more)
        )
    }

    /// The signature DingTalk expects, computed here rather than by the sink under test.
    static func expectedSign(secret: String, timestamp: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp)\n\(secret)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (.respond(status: 405, headers: [:], body: ""), nil) }
        if let secret = group?.secret, !secret.isEmpty {
            guard let timestamp = request.query["timestamp"].flatMap({ Int($0) }),
                abs(Double(timestamp) - now.timeIntervalSince1970 * 1000) <= 3_600_000
            else {
                return (errcode(310000, "invalid timestamp" + Self.more), nil)
            }
            // The query arrives percent-decoded once: a sign encoded twice still holds `%2B` here and fails.
            guard request.query["sign"] == Self.expectedSign(secret: secret, timestamp: timestamp) else {
                return (errcode(310000, "sign not match" + Self.more), nil)
            }
        }
        if request.body.count > Self.maxBody { return (errcode(460101, "message too long"), nil) }
        guard let body = Self.jsonObject(request.body), let type = body["msgtype"] as? String else {
            return (errcode(40035, "缺少参数 msgtype"), nil)
        }
        let content: String
        let searched: String
        switch type {
        case "text":
            guard let text = body["text"] as? [String: Any], let value = text["content"] as? String else {
                return (errcode(40035, "缺少参数 content"), nil)
            }
            content = value
            searched = value
        case "markdown":
            guard let markdown = body["markdown"] as? [String: Any], let value = markdown["text"] as? String,
                let title = markdown["title"] as? String
            else {
                return (errcode(40035, "缺少参数 markdown"), nil)
            }
            content = value
            searched = title + "\n" + value
        case "link":
            guard let link = body["link"] as? [String: Any], let title = link["title"] as? String, !title.isEmpty,
                let text = link["text"] as? String, !text.isEmpty, let url = link["messageUrl"] as? String,
                !url.isEmpty
            else {
                return (errcode(40035, "缺少参数 link: title, text and messageUrl are required"), nil)
            }
            content = text
            searched = title + "\n" + text
        default:
            return (errcode(40035, "不支持的消息类型 \(type)"), nil)
        }
        if content.isEmpty { return (errcode(40035, "缺少参数 content"), nil) }
        if let keyword = group?.keyword, !keyword.isEmpty, !searched.contains(keyword) {
            return (errcode(310000, "keywords not in content" + Self.more), nil)
        }
        let at = body["at"] as? [String: Any]
        var message = ReceivedMessage(
            group: group?.id ?? botKey(of: request), sink: sink, text: content, webhookID: nil,
            mentionAll: (at?["isAtAll"] as? NSNumber)?.boolValue ?? false, receivedAt: now
        )
        if let link = body["link"] as? [String: Any], let url = link["messageUrl"] as? String,
            let title = link["title"] as? String
        {
            message.card = ReceivedCard(url: url, title: title)
        }
        if type == "markdown", let image = Self.imageAddress(in: content) {
            message.image = ReceivedImage(sha256: "", size: 0, url: image)
        }
        return (accepted(), message)
    }

    /// The address of the first markdown image `![…](https://…)` in `text`, if any.
    static func imageAddress(in text: String) -> String? {
        guard let start = text.range(of: "!["),
            let open = text.range(of: "](", range: start.upperBound..<text.endIndex),
            let close = text[open.upperBound...].firstIndex(of: ")")
        else { return nil }
        let url = String(text[open.upperBound..<close])
        return url.hasPrefix("http://") || url.hasPrefix("https://") ? url : nil
    }
}
