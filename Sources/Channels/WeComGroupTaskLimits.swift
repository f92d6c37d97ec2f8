/// What WeCom refuses in a customer-group task, checked before it is sent, so the caller learns which field is wrong
/// instead of an errcode.
///
/// Verified in `add_msg_template`'s documentation (as SDKs mirror it): `chat_id_list` at most 2,000 groups,
/// `text.content` at most 4,000 bytes, at most 9 attachments, text and attachments not both empty, an image needs
/// `media_id` or `pic_url`, a link's `title` (required) at most 128 bytes, `desc` at most 512, `url` (required) and
/// `picurl` at most 2,048. An empty `chat_id_list` with a `sender` would mean every group of that member, so gridcast
/// refuses it too.
enum GroupTaskLimits {
    static let chatIDs = 2000
    static let textBytes = 4000
    static let attachments = 9
    static let linkTitleBytes = 128
    static let linkDescriptionBytes = 512
    static let linkURLBytes = 2048

    /// The first thing WeCom would refuse in `request`, as ``AppCallError/invalid(field:reason:)``.
    static func check(_ request: GroupTaskRequest) throws(AppCallError) {
        if request.sender.isEmpty { throw .invalid(field: "sender", reason: "empty: the groups' owner sends the task") }
        if request.chatIDList.isEmpty {
            throw .invalid(field: "chat_id_list", reason: "empty: WeCom would offer every group of the sender")
        }
        if request.chatIDList.count > chatIDs {
            throw .invalid(field: "chat_id_list", reason: "\(request.chatIDList.count) groups, at most \(chatIDs)")
        }
        if let index = request.chatIDList.firstIndex(where: \.isEmpty) {
            throw .invalid(field: "chat_id_list[\(index)]", reason: "empty")
        }
        let textBytes = request.text?.content.utf8.count ?? 0
        if textBytes > Self.textBytes {
            throw .invalid(field: "text.content", reason: "\(textBytes) bytes, at most \(Self.textBytes)")
        }
        let attachments = request.attachments ?? []
        if textBytes == 0 && attachments.isEmpty {
            throw .invalid(field: "text.content", reason: "empty, and there is no attachment")
        }
        if attachments.count > Self.attachments {
            throw .invalid(field: "attachments", reason: "\(attachments.count), at most \(Self.attachments)")
        }
        for (index, attachment) in attachments.enumerated() {
            try check(attachment, field: "attachments[\(index)]")
        }
    }

    private static func check(_ attachment: TaskAttachment, field: String) throws(AppCallError) {
        switch attachment {
        case .image(let image):
            if (image.mediaID ?? "").isEmpty && (image.picURL ?? "").isEmpty {
                throw .invalid(field: field + ".image", reason: "neither media_id nor pic_url")
            }
        case .link(let link):
            try bytes(link.title, field: field + ".link.title", required: true, limit: linkTitleBytes)
            try bytes(link.desc ?? "", field: field + ".link.desc", required: false, limit: linkDescriptionBytes)
            try bytes(link.url, field: field + ".link.url", required: true, limit: linkURLBytes)
            try bytes(link.picurl ?? "", field: field + ".link.picurl", required: false, limit: linkURLBytes)
        case .other(let type):
            throw .invalid(field: field + ".msgtype", reason: "\(type): gridcast sends only image and link")
        }
    }

    private static func bytes(_ text: String, field: String, required: Bool, limit: Int) throws(AppCallError) {
        let count = text.utf8.count
        if required && count == 0 { throw .invalid(field: field, reason: "empty") }
        if count > limit { throw .invalid(field: field, reason: "\(count) bytes, at most \(limit)") }
    }
}
