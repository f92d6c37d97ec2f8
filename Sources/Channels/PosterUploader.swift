import GridcastCore

/// A platform that shows a poster only once it was uploaded with an app's credentials (Feishu's `image_key`, WeCom's
/// `media_id`): uploads it and says how long the platform's reference to it lives.
public protocol PosterUploader: Sendable {
    /// The app an upload for `group` belongs to: uploads under one key are shared between groups.
    func appKey(for group: Group) -> String?
    /// Uploads `poster` for `group`'s app and returns the platform's reference to it.
    func upload(_ poster: Poster, for group: Group) async throws(AppCallError) -> UploadedMedia
}

/// A platform's reference to an uploaded file.
public struct UploadedMedia: Sendable, Equatable {
    /// The reference (`image_key`, `media_id`).
    public var key: String
    /// How long the platform keeps it; nil when it doesn't expire.
    public var lifetime: Duration?

    /// Creates a reference.
    public init(key: String, lifetime: Duration? = nil) {
        self.key = key
        self.lifetime = lifetime
    }
}
