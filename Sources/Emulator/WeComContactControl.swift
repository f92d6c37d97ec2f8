import Foundation

/// The emulator's own endpoints for the customer-contact API, under `/_emulator/wecom/`: what the member and the
/// platform do outside the API (confirming a task, leaving a group), and a view of the tasks.
extension WeComContactEmulation {
    static let controlPrefix = "/_emulator/wecom/"

    /// Answers a control request, or nil when `request` is not one.
    ///
    /// - `POST confirm?owner=USERID[&msgid=M]`: the member taps "send" on their open tasks (or task `M`).
    /// - `POST leave?chat_id=C`: group `C` no longer takes mass messages (status 2).
    /// - `POST sent-by-hand?chat_id=C`: a member sent group `C` a mass message by hand, which counts against its quota.
    /// - `POST expire-tokens`: every access token expires now (`42001`).
    /// - `POST trusted-ip?trusted=0|1`: calls come from an untrusted IP (`60020`) or a trusted one.
    /// - `GET tasks`: every task with its chats' statuses, reminders and whether it was cancelled.
    func control(_ request: EmulatedRequest, now: Date) -> Outcome? {
        guard request.path.hasPrefix(Self.controlPrefix) else { return nil }
        let name = String(request.path.dropFirst(Self.controlPrefix.count))
        let method = name == "tasks" ? "GET" : "POST"
        guard request.method == method else {
            return Outcome(action: .json(405, #"{"error":"use \#(method)"}"#))
        }
        switch name {
        case "confirm":
            guard let owner = request.query["owner"], !owner.isEmpty else {
                return Outcome(action: .json(400, #"{"error":"owner=USERID is required"}"#))
            }
            let confirmed = state.confirm(owner: owner, msgid: request.query["msgid"], now: now)
            var outcome = Outcome(action: .json(200, WeComAnswer.encode(["confirmed": confirmed.map(summary)])))
            outcome.delivered = confirmed.flatMap { received($0, now: now) }
            return outcome
        case "leave":
            guard let chatID = request.query["chat_id"], state.markLeft(chatID) else {
                return Outcome(action: .json(404, #"{"error":"no such customer group"}"#))
            }
            return Outcome(action: .json(200, WeComAnswer.encode(["chat_id": chatID, "left": true])))
        case "sent-by-hand":
            guard let chatID = request.query["chat_id"], state.recordSentByHand(chatID, now: now) else {
                return Outcome(action: .json(404, #"{"error":"no such customer group"}"#))
            }
            return Outcome(action: .json(200, WeComAnswer.encode(["chat_id": chatID, "sent_by_hand": true])))
        case "expire-tokens":
            state.expireTokens(now: now)
            return Outcome(action: .json(200, #"{"expired":true}"#))
        case "trusted-ip":
            guard let value = request.query["trusted"], value == "0" || value == "1" else {
                return Outcome(action: .json(400, #"{"error":"trusted=0 or trusted=1 is required"}"#))
            }
            state.trustedIP = value == "1"
            return Outcome(action: .json(200, WeComAnswer.encode(["trusted": state.trustedIP])))
        case "tasks":
            let tasks = state.taskOrder.compactMap { state.tasks[$0] }.map(summary)
            return Outcome(action: .json(200, WeComAnswer.encode(tasks)))
        default:
            return Outcome(action: .json(404, #"{"error":"not found"}"#))
        }
    }

    /// A task as `GET /_emulator/wecom/tasks` lists it.
    private func summary(_ task: WeComContactState.Task) -> [String: Any] {
        var fields: [String: Any] = [
            "msgid": task.msgid, "app": task.app, "sender": task.sender, "text": task.text,
            "created_at": WeComAnswer.seconds(task.createdAt), "cancelled": task.cancelled,
            "reminders": task.reminders.map(WeComAnswer.seconds),
            "chats": task.deliveries.map { delivery -> [String: Any] in
                var chat: [String: Any] = ["chat_id": delivery.chatID, "status": delivery.status]
                if let sent = delivery.sendTime { chat["send_time"] = WeComAnswer.seconds(sent) }
                return chat
            },
        ]
        if let confirmed = task.confirmedAt { fields["confirmed_at"] = WeComAnswer.seconds(confirmed) }
        return fields
    }

    /// The messages the groups a confirmed task reached (status 1) now show, poster and card included.
    private func received(_ task: WeComContactState.Task, now: Date) -> [ReceivedMessage] {
        let attachments = (try? JSONSerialization.jsonObject(with: task.attachments)) as? [[String: Any]] ?? []
        var image: ReceivedImage?
        var card: ReceivedCard?
        for attachment in attachments {
            if image == nil, let content = attachment["image"] as? [String: Any] {
                if let id = content["media_id"] as? String, let media = state.media[id] {
                    image = ReceivedImage(sha256: media.sha256, size: media.size)
                } else if let url = content["pic_url"] as? String {
                    image = ReceivedImage(sha256: "", size: 0, url: url)
                }
            }
            if card == nil, let link = attachment["link"] as? [String: Any], let url = link["url"] as? String {
                card = ReceivedCard(url: url, title: link["title"] as? String ?? "")
            }
        }
        return task.deliveries.filter { $0.status == 1 }.map { delivery in
            var message = ReceivedMessage(
                group: state.groups[delivery.chatID]?.groupID ?? delivery.chatID, sink: "wecom-customer-group",
                text: task.text, webhookID: nil, mentionAll: false, receivedAt: now)
            message.image = image
            message.card = card
            return message
        }
    }
}
