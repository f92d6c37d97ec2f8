import Foundation

/// The mass-message calls of WeCom's customer-contact API (企业群发 to customer groups): create a task, read its
/// members' and groups' progress, list tasks by time, remind the member, cancel.
extension WeComContactEmulation {
    /// The largest `text.content` (bytes), attachments, `chat_id_list` and reminders a day WeCom takes.
    static let maxContent = 4000
    static let maxAttachments = 9
    static let maxChats = 2000
    static let remindersPerDay = 3

    func massMessage(
        _ request: EmulatedRequest, call: String, token: WeComContactState.Token, now: Date
    ) -> Outcome {
        guard let body = WeComAnswer.object(request.body) else {
            return Outcome(action: WeComAnswer.error(40058, "invalid Request Parameter, hint: body is not JSON"))
        }
        if call == "add_msg_template" { return Outcome(action: create(body, app: token.app, now: now)) }
        if call == "get_groupmsg_list_v2" { return Outcome(action: list(body, app: token.app)) }
        guard let msgid = body["msgid"] as? String, !msgid.isEmpty else {
            return Outcome(action: WeComAnswer.error(41046, "msgid missing"))
        }
        guard let task = state.tasks[msgid], task.app == token.app else {
            return Outcome(action: WeComAnswer.error(41047, "invalid msgid"))
        }
        switch call {
        case "get_groupmsg_task": return Outcome(action: members(task, body))
        case "get_groupmsg_send_result": return Outcome(action: results(task, body))
        case "remind_groupmsg_send":
            if task.cancelled { return Outcome(action: WeComAnswer.error(41093, "task cancelled")) }
            if task.reminders.filter({ now.timeIntervalSince($0) < 86400 }).count >= Self.remindersPerDay {
                return Outcome(action: WeComAnswer.error(41094, "remind frequency out of limit"))
            }
            state.remind(msgid, now: now)
            return Outcome(action: WeComAnswer.ok())
        default:
            if task.cancelled { return Outcome(action: WeComAnswer.error(41093, "task cancelled")) }
            state.cancel(msgid)
            return Outcome(action: WeComAnswer.ok())
        }
    }

    /// `add_msg_template` with `chat_type: group`: checked as WeCom checks it; chats the sender doesn't own go to
    /// `fail_list`, and a task with no chat left is refused (`41048`).
    private func create(_ body: [String: Any], app: String, now: Date) -> EmulatedAction {
        let chatType = body["chat_type"] as? String ?? "single"
        guard chatType == "single" || chatType == "group" else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: chat_type must be single or group")
        }
        // Customers (single) are not emulated: there is never one to send to.
        guard chatType == "group" else { return WeComAnswer.error(41048, "no customer to send") }
        guard let sender = body["sender"] as? String, !sender.isEmpty else {
            return WeComAnswer.error(40063, "sender missing, hint: required for chat_type group")
        }
        guard state.isMember(sender, app: app) else { return WeComAnswer.error(40003, "invalid userid \(sender)") }
        let text = (body["text"] as? [String: Any])?["content"] as? String ?? ""
        if text.utf8.count > Self.maxContent {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: text.content over 4000 bytes")
        }
        guard body["attachments"] == nil || body["attachments"] is [[String: Any]],
            body["chat_id_list"] == nil || body["chat_id_list"] is [String]
        else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: attachments or chat_id_list malformed")
        }
        let attachments = body["attachments"] as? [[String: Any]] ?? []
        if attachments.count > Self.maxAttachments { return WeComAnswer.error(41064, "attachments count out of limit") }
        for attachment in attachments {
            if let refusal = check(attachment, app: app, now: now) { return refusal }
        }
        if text.isEmpty && attachments.isEmpty {
            return WeComAnswer.error(40063, "text and attachments are both empty")
        }
        let named = body["chat_id_list"] as? [String] ?? []
        if named.count > Self.maxChats {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: chat_id_list over 2000")
        }
        var chats: [String] = []
        var failed: [String] = []
        if named.isEmpty {
            // No list: every group of the sender, who picks among them when confirming.
            chats = state.groups(of: app, owners: [sender]).map(\.chatID)
        }
        for chatID in named where !chats.contains(chatID) && !failed.contains(chatID) {
            let group = state.group(chatID, app: app, claimedBy: sender, now: now)
            if group?.owner == sender { chats.append(chatID) } else { failed.append(chatID) }
        }
        guard !chats.isEmpty else { return WeComAnswer.error(41048, "no customer group to send") }
        let echoed =
            (try? JSONSerialization.data(withJSONObject: attachments, options: [.sortedKeys])) ?? Data("[]".utf8)
        let msgid = state.addTask(
            app: app, sender: sender, chats: chats, text: text, attachments: echoed, now: now)
        return WeComAnswer.ok(["fail_list": failed, "msgid": msgid])
    }

    /// The refusal of one attachment, or nil when WeCom takes it.
    private func check(_ attachment: [String: Any], app: String, now: Date) -> EmulatedAction? {
        let type = attachment["msgtype"] as? String ?? ""
        let content = attachment[type] as? [String: Any]
        switch type {
        case "image":
            let mediaID = content?["media_id"] as? String ?? ""
            let picURL = content?["pic_url"] as? String ?? ""
            if mediaID.isEmpty && picURL.isEmpty { return WeComAnswer.error(41006, "media_id missing") }
            if !mediaID.isEmpty && state.validMedia(mediaID, type: "image", app: app, now: now) == nil {
                return WeComAnswer.error(40007, "invalid media_id")
            }
            if mediaID.isEmpty, let refusal = checkURL(picURL) { return refusal }
        case "link":
            let title = content?["title"] as? String ?? ""
            let url = content?["url"] as? String ?? ""
            if title.isEmpty { return WeComAnswer.error(41016, "title missing") }
            if url.isEmpty { return WeComAnswer.error(41010, "url missing") }
            if title.utf8.count > 128 {
                return WeComAnswer.error(40058, "invalid Request Parameter, hint: link.title over 128 bytes")
            }
            if (content?["desc"] as? String ?? "").utf8.count > 512 {
                return WeComAnswer.error(40058, "invalid Request Parameter, hint: link.desc over 512 bytes")
            }
            if let refusal = checkURL(url) { return refusal }
            if let picURL = content?["picurl"] as? String, !picURL.isEmpty, let refusal = checkURL(picURL) {
                return refusal
            }
        case "miniprogram":
            if (content?["appid"] as? String ?? "").isEmpty { return WeComAnswer.error(90200, "appid missing") }
            if (content?["title"] as? String ?? "").isEmpty { return WeComAnswer.error(41016, "title missing") }
            if (content?["title"] as? String ?? "").utf8.count > 64 {
                return WeComAnswer.error(40058, "invalid Request Parameter, hint: miniprogram.title over 64 bytes")
            }
            if (content?["page"] as? String ?? "").isEmpty {
                return WeComAnswer.error(40058, "invalid Request Parameter, hint: miniprogram.page missing")
            }
            let picture = content?["pic_media_id"] as? String ?? ""
            if picture.isEmpty { return WeComAnswer.error(41006, "media_id missing") }
            if state.validMedia(picture, type: "image", app: app, now: now) == nil {
                return WeComAnswer.error(40007, "invalid media_id")
            }
        case "video", "file":
            let mediaID = content?["media_id"] as? String ?? ""
            if mediaID.isEmpty { return WeComAnswer.error(41006, "media_id missing") }
            if state.validMedia(mediaID, type: type, app: app, now: now) == nil {
                return WeComAnswer.error(40007, "invalid media_id")
            }
        default:
            return WeComAnswer.error(41065, "invalid attachment type")
        }
        return nil
    }

    /// `45034` for an address without `http://` or `https://`.
    private func checkURL(_ url: String) -> EmulatedAction? {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            return WeComAnswer.error(45034, "url must start with http:// or https://")
        }
        return nil
    }

    /// `get_groupmsg_task`: the sender's task, status 0 until confirmed, then 2 with its `send_time`.
    private func members(_ task: WeComContactState.Task, _ body: [String: Any]) -> EmulatedAction {
        guard let (start, limit) = page(body, count: 1, defaultLimit: 500, maxLimit: 1000) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: invalid cursor")
        }
        var entry: [String: Any] = ["userid": task.sender, "status": task.confirmedAt == nil ? 0 : 2]
        if let confirmed = task.confirmedAt { entry["send_time"] = WeComAnswer.seconds(confirmed) }
        let rows = [entry].dropFirst(start).prefix(limit)
        return WeComAnswer.ok(["task_list": Array(rows), "next_cursor": ""])
    }

    /// `get_groupmsg_send_result`: each group's status for the member, `send_time` for those sent.
    private func results(_ task: WeComContactState.Task, _ body: [String: Any]) -> EmulatedAction {
        guard let userid = body["userid"] as? String, !userid.isEmpty else {
            return WeComAnswer.error(41009, "userid missing")
        }
        let rows: [[String: Any]] =
            userid == task.sender
            ? task.deliveries.map { delivery in
                var row: [String: Any] = ["chat_id": delivery.chatID, "userid": task.sender, "status": delivery.status]
                if let sent = delivery.sendTime { row["send_time"] = WeComAnswer.seconds(sent) }
                return row
            } : []
        guard let (start, limit) = page(body, count: rows.count, defaultLimit: 500, maxLimit: 1000) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: invalid cursor")
        }
        let end = min(rows.count, start + limit)
        return WeComAnswer.ok([
            "send_list": Array(rows[start..<end]), "next_cursor": end < rows.count ? WeComCursor.encode(end) : "",
        ])
    }

    /// `get_groupmsg_list_v2`: tasks created between `start_time` and `end_time`, at most one month apart.
    private func list(_ body: [String: Any], app: String) -> EmulatedAction {
        guard let start = WeComAnswer.integer(body["start_time"]), let end = WeComAnswer.integer(body["end_time"])
        else { return WeComAnswer.error(40063, "start_time and end_time are required") }
        let from = Date(timeIntervalSince1970: TimeInterval(start))
        let until = Date(timeIntervalSince1970: TimeInterval(end))
        guard from <= until, let limit = state.corpCalendar.date(byAdding: .month, value: 1, to: from), until <= limit
        else {
            return WeComAnswer.error(
                40058, "invalid Request Parameter, hint: start_time to end_time must be at most one month")
        }
        let chatType = body["chat_type"] as? String ?? "single"
        let filterType = WeComAnswer.integer(body["filter_type"]) ?? 2
        let creator = body["creator"] as? String ?? ""
        let tasks = state.taskOrder.compactMap { state.tasks[$0] }.filter { task in
            task.app == app && chatType == "group" && filterType != 1 && (creator.isEmpty || task.sender == creator)
                && task.createdAt >= from && task.createdAt <= until
        }
        // Over 100 (or none given) WeCom takes its default of 50.
        var requested = WeComAnswer.integer(body["limit"]) ?? 50
        if requested < 1 || requested > 100 { requested = 50 }
        guard let offset = WeComCursor.offset(body["cursor"] as? String ?? "", count: tasks.count) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: invalid cursor")
        }
        let stop = min(tasks.count, offset + requested)
        let rows: [[String: Any]] = tasks[offset..<stop].map { task in
            [
                "msgid": task.msgid, "creator": task.sender, "create_time": WeComAnswer.seconds(task.createdAt),
                "create_type": 0, "text": ["content": task.text],
                "attachments": (try? JSONSerialization.jsonObject(with: task.attachments)) ?? [Any](),
            ]
        }
        return WeComAnswer.ok([
            "group_msg_list": rows, "next_cursor": stop < tasks.count ? WeComCursor.encode(stop) : "",
        ])
    }

    /// The page a body asks for: its start and size, or nil when `limit` or `cursor` is invalid.
    private func page(
        _ body: [String: Any], count: Int, defaultLimit: Int, maxLimit: Int
    ) -> (start: Int, limit: Int)? {
        // Like WeCom: a limit that is absent, 0 or over the maximum means the default.
        var limit = WeComAnswer.integer(body["limit"]) ?? defaultLimit
        if limit < 1 || limit > maxLimit { limit = defaultLimit }
        guard let start = WeComCursor.offset(body["cursor"] as? String ?? "", count: count) else { return nil }
        return (start, limit)
    }
}
