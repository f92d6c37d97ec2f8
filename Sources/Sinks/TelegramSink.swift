import Foundation
import GridcastCore
import Transport

/// Telegram Bot API: `POST https://api.telegram.org/bot<TOKEN>/sendMessage` with `{"chat_id", "text"}`; one bot
/// posts into many chats, so each group names its chat with `chat_id`.
///
/// The markdown format is rendered in Telegram's HTML subset (``TelegramHTML``) and sent with `parse_mode: HTML`; a
/// group's `thread_id` (a forum topic) is sent as `message_thread_id`. Each chat is paced at about 20 messages a
/// minute, and all chats of one bot token together at 30 a second (``SharedPacing``). `{"ok":true}` is sent;
/// `error_code` 429 pauses the chat and its whole token for `parameters.retry_after`; `parameters.migrate_to_chat_id` (the group became
/// a supergroup) is permanent and names the new chat id; 400/401/403/404 are permanent; an HTTP 5xx follows ``ServerErrorRule``.
public struct TelegramSink: SharedPacing {
    public let name = "telegram"
    /// About 20 messages a minute per group.
    public let rate: RateLimit? = .perMinute(20)

    /// Text is limited to 4096 characters (after entity parsing).
    public func limit(for group: Group) -> TextLimit { .characters(4096) }

    /// About 30 messages a second per bot token, across all its chats.
    public let sharedRate: RateLimit = .perSecond(30)

    /// Creates the sink.
    public init() {}

    /// Markdown is rendered (``TelegramHTML``), so the notice's markdown is kept until the request is built.
    public func rendersMarkdown(for group: Group) -> Bool { group.format == .markdown }

    /// The bot token: every chat the bot posts into counts against it.
    public func sharedKey(for group: Group) -> String {
        let path = URLComponents(string: group.url)?.percentEncodedPath ?? ""
        return "telegram-token:" + String(Self.token(inPath: path) ?? Substring(group.url))
    }

    /// Telegram limits per chat, not per bot: the URL (which names the bot) and the chat id.
    public func botKey(for group: Group) -> String {
        group.url + "#" + (group.chatID ?? "")
    }

    public func problems(for group: Group, address: WebhookAddress) -> [GroupProblem] {
        var problems: [GroupProblem] = []
        if group.chatID.map({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? true {
            problems.append(
                GroupProblem(field: "chat_id", message: "telegram needs chat_id: the chat the bot posts into"))
        }
        if Self.token(inPath: address.path) == nil {
            problems.append(
                GroupProblem(field: "url", message: "telegram url path must be /bot<token>/sendMessage"))
        }
        return problems
    }

    /// The token in a `/bot<token>/sendMessage` path, or nil when the path has another shape.
    static func token(inPath path: String) -> Substring? {
        guard path.hasPrefix("/bot"), path.hasSuffix("/sendMessage") else { return nil }
        let token = path.dropFirst("/bot".count).dropLast("/sendMessage".count)
        return token.isEmpty || token.contains("/") ? nil : token
    }

    /// The poster goes by `sendPhoto` (multipart upload) after the text, captioned with the title.
    public func posterHandling(_ poster: Poster, for group: Group) -> PosterHandling { .ownPart }

    /// Bots may upload photos up to 10 MB.
    public func posterLimit(for group: Group) -> PosterLimit? { PosterLimit(bytes: 10 * 1024 * 1024, label: "10 MB") }

    /// The card's link ends the text, and Telegram previews it (`link_preview_options.url`).
    public func cardHandling(for group: Group) -> CardHandling { .linkInText }

    public func request(for message: OutgoingMessage, now: Date) throws(RenderError) -> HTTPRequest {
        guard let chatID = message.group.chatID, !chatID.isEmpty else {
            throw RenderError("group \(message.group.id): telegram needs chat_id")
        }
        if case .poster(let poster) = message.content {
            return photoRequest(poster, for: message, chatID: chatID)
        }
        var body = JSONWriter()
        body.field("chat_id", chatID)
        if let thread = message.group.threadID, let number = Int(thread) {
            body.field("message_thread_id", number)
        }
        if message.group.format == .markdown {
            body.field("text", TelegramHTML.html(message.text))
            body.field("parse_mode", "HTML")
        } else {
            body.field("text", message.text)
        }
        if let card = message.notice.link, message.text.contains(card.url) {
            body.object("link_preview_options") { preview in preview.field("url", card.url) }
        }
        return message.jsonRequest(body.finished)
    }

    /// `sendPhoto` at the group's bot: `chat_id`, the topic, a caption (the title, ≤ 1,024 characters) and the file.
    func photoRequest(_ poster: Poster, for message: OutgoingMessage, chatID: String) -> HTTPRequest {
        var form = MultipartForm(seed: poster.sha256 + message.partID)
        form.field("chat_id", chatID)
        if let thread = message.group.threadID, let number = Int(thread) {
            form.field("message_thread_id", String(number))
        }
        var caption = message.notice.urgent ? message.group.urgentPrefix + message.notice.title : message.notice.title
        while caption.utf16.count > 1024 { caption.removeLast() }
        if !caption.isEmpty { form.field("caption", caption) }
        let filename = poster.filename
        form.file("photo", filename: filename, contentType: poster.format.contentType, poster.bytes)
        var url = message.group.url
        if let range = url.range(of: "/sendMessage") { url.replaceSubrange(range, with: "/sendPhoto") }
        return HTTPRequest(
            url: url, headers: [HTTPHeader("Content-Type", form.contentType)], body: form.finished,
            timeout: message.timeout)
    }

    public func classify(_ response: HTTPResponse) -> Verdict {
        let status = response.status
        guard let object = JSONBody.object(response.body), let ok = (object["ok"] as? NSNumber)?.boolValue else {
            switch status {
            case 429: return .rateLimited(after: RetryAfter.delay(in: response), reason: "HTTP 429")
            case 500...599: return ServerErrorRule.verdict(for: response, reason: "HTTP \(status)")!
            case 200...299: return .unknown(reason: "HTTP \(status) without ok in the body")
            default: return .permanent(reason: "HTTP \(status)")
            }
        }
        if ok { return .sent }
        let code = JSONBody.int(object, "error_code") ?? status
        let reason = "error \(code): \(JSONBody.message(object, "description"))"
        let parameters = object["parameters"] as? [String: Any]
        if let newChat = parameters.flatMap({ JSONBody.int($0, "migrate_to_chat_id") }) {
            return .permanent(
                reason: "\(reason); the group moved to chat id \(newChat): set the group's chat_id to \(newChat)")
        }
        switch code {
        case 429:
            let seconds = parameters.flatMap { JSONBody.int($0, "retry_after") }
            return .rateLimited(
                after: seconds.map { .seconds($0) } ?? RetryAfter.delay(in: response), reason: reason)
        case 500...599:
            return .retry(after: RetryAfter.delay(in: response), reason: reason)
        default:
            return .permanent(reason: reason)
        }
    }
}
