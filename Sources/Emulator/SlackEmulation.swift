import Foundation
import GridcastCore

/// Slack incoming webhooks at `/services/…`: plain-text answers (`ok`, `invalid_payload`, `channel_not_found`…),
/// text up to 40000 characters, one message a second per webhook. The text is shown as Slack shows it: `&amp;`,
/// `&lt;` and `&gt;` as `&`, `<` and `>`, and `<…>` read as a link or a mention (`<url|label>` shows the label, a
/// `<…>` that is neither shows nothing), so a sender that doesn't escape loses words.
struct SlackEmulation: PlatformEmulation {
    let sink = "slack"
    let perMinuteLimit: Int? = 60
    let rateWindows = [RateWindow(count: 1, seconds: 1)]

    func accepts(_ request: EmulatedRequest) -> Bool {
        request.path.hasPrefix("/services/")
    }

    func botKey(of request: EmulatedRequest) -> String {
        "slack:" + request.path
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == sink, let components = URLComponents(string: group.url) else { return nil }
        return "slack:" + components.percentEncodedPath
    }

    private func text(_ status: Int, _ body: String, headers: [String: String] = [:]) -> EmulatedAction {
        var headers = headers
        headers["content-type"] = "text/plain"
        return .respond(status: status, headers: headers, body: body)
    }

    func unknownBot() -> EmulatedAction {
        text(404, "no_service")
    }

    func accepted() -> EmulatedAction {
        text(200, "ok")
    }

    func tooFast() -> EmulatedAction {
        text(429, "rate_limited", headers: ["retry-after": "1"])
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault {
            rateLimited = text(429, "rate_limited", headers: ["retry-after": "\(seconds)"])
        }
        return answer(
            for: fault, busy: text(503, "service_unavailable"), rateLimited: rateLimited,
            permanent: text(404, "channel_not_found")
        )
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (text(405, "invalid_method"), nil) }
        guard let body = Self.jsonObject(request.body) else { return (text(400, "invalid_payload"), nil) }
        guard var content = body["text"] as? String, !content.isEmpty else { return (text(400, "no_text"), nil) }
        if content.utf16.count > 40000 { return (text(400, "invalid_payload"), nil) }
        var mentionAll = false
        for mention in ["<!channel>", "<!everyone>", "<!here>"] where content.hasPrefix(mention) {
            mentionAll = true
            content = String(content.dropFirst(mention.count).drop { $0 == " " })
        }
        var message = ReceivedMessage(
            group: group?.id ?? botKey(of: request), sink: sink, text: Self.shown(content), webhookID: nil,
            mentionAll: mentionAll, receivedAt: now
        )
        if let blocks = body["blocks"] {
            guard let blocks = blocks as? [[String: Any]], (1...50).contains(blocks.count) else {
                return (text(400, "invalid_blocks"), nil)
            }
            for block in blocks {
                switch Self.check(block) {
                case .failure: return (text(400, "invalid_blocks"), nil)
                case .success(.image(let url)): message.image = ReceivedImage(sha256: "", size: 0, url: url)
                case .success(.link(let card)): message.card = card
                case .success(.text): break
                }
            }
        }
        return (accepted(), message)
    }

    /// What a block shows.
    enum Block {
        case text
        case image(String)
        case link(ReceivedCard)
    }

    struct InvalidBlock: Error {}

    /// A `section` needs `text {type: mrkdwn|plain_text, text: 1–3000 characters}`; an `image` needs an http(s)
    /// `image_url` (≤ 3000) and an `alt_text` (1–2000).
    static func check(_ block: [String: Any]) -> Result<Block, InvalidBlock> {
        switch block["type"] as? String {
        case "section":
            guard let text = block["text"] as? [String: Any], let type = text["type"] as? String,
                ["mrkdwn", "plain_text"].contains(type), let value = text["text"] as? String,
                (1...3000).contains(value.utf16.count)
            else { return .failure(InvalidBlock()) }
            if value.hasPrefix("<http"), let bar = value.firstIndex(of: "|"), let close = value.firstIndex(of: ">") {
                let url = String(value[value.index(after: value.startIndex)..<bar])
                let title = String(value[value.index(after: bar)..<close])
                return .success(.link(ReceivedCard(url: url, title: shown(title))))
            }
            return .success(.text)
        case "image":
            guard let url = block["image_url"] as? String, url.hasPrefix("http"), url.utf16.count <= 3000,
                let alt = block["alt_text"] as? String, (1...2000).contains(alt.utf16.count)
            else { return .failure(InvalidBlock()) }
            return .success(.image(url))
        default:
            return .failure(InvalidBlock())
        }
    }

    /// `text` as the channel shows it: control sequences `<…>` resolved, then the three escapes undone.
    static func shown(_ text: String) -> String {
        var shown = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "<") {
            shown += rest[..<open]
            guard let close = rest[open...].firstIndex(of: ">") else {
                rest = rest[open...]
                break
            }
            let inside = rest[rest.index(after: open)..<close]
            let parts = inside.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 {
                shown += parts[1]
            } else if inside.hasPrefix("http://") || inside.hasPrefix("https://") || inside.hasPrefix("mailto:") {
                shown += inside
            } else if inside.hasPrefix("!") || inside.hasPrefix("@") || inside.hasPrefix("#") {
                shown += "@" + inside.dropFirst()
            }
            rest = rest[rest.index(after: close)...]
        }
        shown += rest
        return
            shown
            .replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
