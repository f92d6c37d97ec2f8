/// A link card: an article (a 公众号 post, say) shown with its title, a line of description and a picture, where the
/// platform renders cards (docs/rich-notices.md).
public struct LinkCard: Sendable, Hashable, Codable {
    /// Where the card leads (https).
    public var url: String
    /// The card's title.
    public var title: String
    /// One line under the title (may be empty).
    public var description: String
    /// The card's picture at a public https address (may be nil).
    public var pictureURL: String?

    enum CodingKeys: String, CodingKey {
        case url, title, description
        case pictureURL = "picurl"
    }

    /// Creates a card.
    public init(url: String, title: String, description: String = "", pictureURL: String? = nil) {
        self.url = url
        self.title = title
        self.description = description
        self.pictureURL = pictureURL
    }
}
