extension WeComContactClient {
    /// Creates a mass-message task to customer groups (`externalcontact/add_msg_template`, `chat_type: "group"`):
    /// `sender`, the groups' owner, confirms it in WeCom, then it goes out. Checked before sending against WeCom's
    /// limits (``AppCallError/invalid(field:reason:)`` names the field).
    public func createGroupTask(
        sender: String, chatIDs: [String], text: String, attachments: [TaskAttachment] = []
    ) async throws(AppCallError) -> CreatedTask {
        let request = GroupTaskRequest(
            chatType: "group", chatIDList: chatIDs, sender: sender,
            text: text.isEmpty ? nil : .init(content: text), attachments: attachments.isEmpty ? nil : attachments)
        try GroupTaskLimits.check(request)
        return try await post("externalcontact/add_msg_template", request, answer: CreatedTask.self)
    }

    /// Reminds the members who have not sent task `msgid` yet (`externalcontact/remind_groupmsg_send`; WeCom allows
    /// a few reminders a day, errcode 41094 past them).
    public func remind(msgid: String) async throws(AppCallError) {
        _ = try await post(
            "externalcontact/remind_groupmsg_send", TaskIDRequest(msgid: msgid), answer: EmptyAnswer.self)
    }

    /// Stops task `msgid` for the members who have not sent it (`externalcontact/cancel_groupmsg_send`).
    public func cancel(msgid: String) async throws(AppCallError) {
        _ = try await post(
            "externalcontact/cancel_groupmsg_send", TaskIDRequest(msgid: msgid), answer: EmptyAnswer.self)
    }
}
