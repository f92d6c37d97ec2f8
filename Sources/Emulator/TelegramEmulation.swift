import Foundation
import GridcastCore

/// Telegram Bot API `sendMessage` at `/bot{token}/sendMessage`: `{"ok":…}` answers with the real HTTP status,
/// `parameters.retry_after` on 429, text up to 4096 characters (after HTML entities are parsed), about 20 messages a
/// minute per chat and 30 a second per token across its chats. A bot is its token plus the body's `chat_id`: one bot
/// token posts into many groups. `parse_mode: HTML` is parsed as Telegram does (``TelegramMarkup``): an unknown or
/// unclosed tag is `can't parse entities`. A group configured with a `thread_id` is a forum with that one topic: any
/// other `message_thread_id` is `message thread not found`.
struct TelegramEmulation: PlatformEmulation {
    let sink = "telegram"
    let perMinuteLimit: Int? = 20

    func accepts(_ request: EmulatedRequest) -> Bool {
        request.path.hasPrefix("/bot") && Self.methods.contains { request.path.hasSuffix($0) }
    }

    /// The Bot API methods played: text, and a photo upload.
    static let methods = ["/sendMessage", "/sendPhoto"]

    /// The request's fields: the JSON body, or a multipart form's text fields.
    private static func fields(of request: EmulatedRequest) -> [String: Any]? {
        guard let form = MultipartBody(request.body, contentType: request.headers["content-type"]) else {
            return jsonObject(request.body)
        }
        var fields: [String: Any] = [:]
        for part in form.parts where part.filename == nil { fields[part.name] = part.text }
        return fields
    }

    func botKey(of request: EmulatedRequest) -> String {
        // Every request is asked for its key on every platform: parse the body only for Telegram's own paths.
        guard accepts(request) else { return "telegram:" }
        return "telegram:" + Self.token(request.path) + "#" + (Self.chatID(in: Self.fields(of: request)) ?? "")
    }

    func sharedLimit(of request: EmulatedRequest) -> SharedLimit? {
        guard accepts(request) else { return nil }
        return SharedLimit(
            key: "telegram-token:" + Self.token(request.path), count: 30, seconds: 1, tooFast: tooManyRequests(1))
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == sink, let components = URLComponents(string: group.url) else { return nil }
        return "telegram:" + Self.token(components.percentEncodedPath) + "#" + (group.chatID ?? "")
    }

    private static func token(_ path: String) -> String {
        guard path.hasPrefix("/bot"), let method = methods.first(where: { path.hasSuffix($0) }) else { return "" }
        return String(path.dropFirst("/bot".count).dropLast(method.count))
    }

    /// `chat_id` as sent: a number or a string.
    private static func chatID(in body: [String: Any]?) -> String? {
        if let text = body?["chat_id"] as? String { return text }
        if let number = body?["chat_id"] as? NSNumber { return number.stringValue }
        return nil
    }

    private func failure(_ code: Int, _ description: String, parameters: String? = nil) -> EmulatedAction {
        let extra = parameters.map { #","parameters":\#($0)"# } ?? ""
        return .json(code, #"{"ok":false,"error_code":\#(code),"description":"\#(description)"\#(extra)}"#)
    }

    private func tooManyRequests(_ seconds: Int) -> EmulatedAction {
        failure(429, "Too Many Requests: retry after \(seconds)", parameters: #"{"retry_after":\#(seconds)}"#)
    }

    func unknownBot() -> EmulatedAction {
        failure(400, "Bad Request: chat not found")
    }

    func accepted() -> EmulatedAction {
        .json(200, #"{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":0,"type":"group"},"text":""}}"#)
    }

    func tooFast() -> EmulatedAction {
        tooManyRequests(3)
    }

    /// The permanent fault is the one operators must act on: the group became a supergroup with a new id.
    static let migratedChatID = -1_001_234_567_890

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault { rateLimited = tooManyRequests(seconds) }
        return answer(
            for: fault, busy: failure(500, "Internal Server Error"), rateLimited: rateLimited,
            permanent: failure(
                400, "Bad Request: group chat was upgraded to a supergroup chat",
                parameters: #"{"migrate_to_chat_id":\#(Self.migratedChatID)}"#)
        )
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard request.method == "POST" else { return (failure(405, "Method Not Allowed"), nil) }
        if request.path.hasSuffix("/sendPhoto") { return photo(request, group: group, now: now) }
        guard let body = Self.jsonObject(request.body) else { return (failure(400, "Bad Request: invalid JSON"), nil) }
        guard let chat = Self.chatID(in: body), !chat.isEmpty else {
            return (failure(400, "Bad Request: chat_id is empty"), nil)
        }
        guard var text = body["text"] as? String, !text.isEmpty else {
            return (failure(400, "Bad Request: message text is empty"), nil)
        }
        var thread: Int?
        if let value = body["message_thread_id"] {
            guard let number = (value as? NSNumber)?.intValue ?? (value as? String).flatMap({ Int($0) }) else {
                return (failure(400, "Bad Request: invalid message_thread_id"), nil)
            }
            if let group, group.threadID.flatMap({ Int($0) }) != number {
                return (failure(400, "Bad Request: message thread not found"), nil)
            }
            thread = number
        }
        switch body["parse_mode"] as? String {
        case nil:
            break
        case "HTML":
            switch TelegramMarkup.parse(text) {
            case .success(let visible): text = visible
            case .failure(let problem):
                let quoted = problem.description.replacingOccurrences(of: "\"", with: "\\\"")
                return (failure(400, "Bad Request: can't parse entities: \(quoted)"), nil)
            }
        case let mode?:
            return (failure(400, "Bad Request: unsupported parse_mode \(mode)"), nil)
        }
        if text.utf16.count > 4096 { return (failure(400, "Bad Request: message is too long"), nil) }
        var message = ReceivedMessage(
            group: group?.id ?? "telegram:\(chat)", sink: sink, text: text, webhookID: nil, mentionAll: false,
            receivedAt: now, threadID: thread
        )
        if let preview = body["link_preview_options"] as? [String: Any], let url = preview["url"] as? String {
            // The card the chat shows: the previewed address, titled by the words before it on its line.
            let line = text.split(separator: "\n").last { $0.contains(url) }.map(String.init) ?? ""
            let title = line.replacingOccurrences(of: url, with: "").trimmingCharacters(
                in: CharacterSet(charactersIn: "： "))
            message.card = ReceivedCard(url: url, title: title)
        }
        return (accepted(), message)
    }

    /// `sendPhoto` as a multipart upload: `chat_id`, a `photo` file (a PNG or JPEG of at most 10 MB) and a caption of
    /// at most 1,024 characters.
    private func photo(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard let form = MultipartBody(request.body, contentType: request.headers["content-type"]) else {
            return (failure(400, "Bad Request: there is no photo in the request"), nil)
        }
        guard let chat = form["chat_id"]?.text, !chat.isEmpty else {
            return (failure(400, "Bad Request: chat_id is empty"), nil)
        }
        guard let photo = form["photo"], photo.filename != nil, !photo.data.isEmpty else {
            return (failure(400, "Bad Request: there is no photo in the request"), nil)
        }
        if photo.data.count > 10 * 1024 * 1024 { return (failure(400, "Bad Request: file is too big"), nil) }
        guard let poster = try? Poster(bytes: photo.data) else {
            return (failure(400, "Bad Request: IMAGE_PROCESS_FAILED"), nil)
        }
        let caption = form["caption"]?.text ?? ""
        if caption.utf16.count > 1024 { return (failure(400, "Bad Request: message caption is too long"), nil) }
        var message = ReceivedMessage(
            group: group?.id ?? "telegram:\(chat)", sink: sink, text: caption, webhookID: nil, mentionAll: false,
            receivedAt: now, threadID: form["message_thread_id"].flatMap { Int($0.text) }
        )
        message.image = ReceivedImage(uploaded: photo.data, sha256: poster.sha256)
        return (accepted(), message)
    }
}
