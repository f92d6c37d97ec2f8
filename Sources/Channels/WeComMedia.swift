/// `media/upload`'s answer: the temporary material's id, valid for 3 days.
public struct WeComUpload: Codable, Sendable, Equatable {
    /// `image`, `voice`, `video` or `file`.
    public var type: String?
    /// The `media_id` a task's image attachment names.
    public var mediaID: String
    /// When it was uploaded (documented as a string of digits).
    public var createdAt: WeComTime

    enum CodingKeys: String, CodingKey {
        case type
        case mediaID = "media_id"
        case createdAt = "created_at"
    }
}
