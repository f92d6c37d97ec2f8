import Channels
import GridcastCore
import Sinks

/// What a customer group's mass message carries: the notice as plain text (WeCom shows no markdown there), the
/// poster and the link card as attachments (docs/customer-groups.md).
enum CustomerGroupMessage {
    /// WeCom's limit on a task's text: 4,000 bytes.
    static let textLimit = 4000
    /// WeCom's media upload takes images up to 2 MB.
    static let posterLimit = WeComContactClient.imageByteLimit

    /// The task's text for `notice`, as every group of `group`'s member gets it.
    static func text(of notice: Notice, for group: Group) -> String {
        MarkdownText.plain(MessageParts.body(of: notice, urgentPrefix: group.urgentPrefix))
    }

    /// The link card as WeCom's `link` attachment (title cut to 128 bytes and description to 512, as WeCom takes).
    static func link(_ card: LinkCard) -> TaskAttachment {
        .link(
            TaskLink(
                title: Truncated.utf8(card.title.isEmpty ? card.url : card.title, bytes: 128), url: card.url,
                desc: card.description.isEmpty ? nil : Truncated.utf8(card.description, bytes: 512),
                picurl: card.pictureURL))
    }

    /// Why `notice` can't go to customer group `group` as a task; nil when it can.
    static func refusal(of notice: Notice, for group: Group) -> String? {
        let size = text(of: notice, for: group).utf8.count
        if size > textLimit {
            return "notice '\(notice.id)' can't be sent to customer group \(group.id): its text is \(size) bytes and "
                + "a WeCom mass message takes at most \(textLimit)"
        }
        if let poster = notice.poster, poster.bytes.count > posterLimit {
            return "notice '\(notice.id)' can't be sent to customer group \(group.id): its poster is "
                + "\(poster.bytes.count) bytes and WeCom takes images up to 2 MB (\(posterLimit) bytes)"
        }
        return nil
    }
}
