import GridcastCore

/// What one part of a delivery carries: text, the notice's poster, or its link card (docs/rich-notices.md).
public enum MessagePart: Sendable, Hashable {
    /// A text part, ready to post (title, keyword and part marker included).
    case text(String)
    /// The poster, as an image message of its own.
    case poster(Poster)
    /// The link card, as a card message of its own.
    case card(LinkCard)

    /// The text of a text part; empty for a poster or a card.
    public var text: String {
        if case .text(let text) = self { return text }
        return ""
    }

    /// A short name for logs and errors: `text`, `poster` or `card`.
    public var kind: String {
        switch self {
        case .text: "text"
        case .poster: "poster"
        case .card: "card"
        }
    }
}

/// How a sink delivers a notice's poster to a group.
public enum PosterHandling: Sendable, Equatable {
    /// As a part of its own after the text parts.
    case ownPart
    /// As a part of its own, once the dispatcher has uploaded it with the group's app: the message carries the
    /// platform's reference to it (``OutgoingMessage/media``, Feishu's `image_key`).
    case uploaded
    /// Inside the first text message (the generic sink's `image`).
    case withText
    /// Not shown, for `reason`; the text links the poster's `image_url` when there is one.
    case notShown(reason: String)
}

/// How a sink delivers a notice's link card to a group.
public enum CardHandling: Sendable, Equatable {
    /// As a part of its own after the text parts and the poster.
    case ownPart
    /// Inside the first text message (a block, an embed, a field of the payload).
    case withText
    /// As a line with the card's title and address at the end of the text.
    case linkInText
}

/// A poster larger than a platform takes, in bytes.
public struct PosterLimit: Sendable, Equatable {
    /// The most the platform takes, in bytes of the image file.
    public var bytes: Int
    /// How the platform states it ("2 MB").
    public var label: String

    /// Creates a limit.
    public init(bytes: Int, label: String) {
        self.bytes = bytes
        self.label = label
    }
}
