import GridcastCore

/// Uploads posters for WeCom customer groups' tasks (`media/upload?type=image`) with the group's app; the
/// `media_id` lives three days.
public struct WeComMediaUploader: PosterUploader {
    private let clients: [String: WeComContactClient]

    /// How long WeCom keeps an uploaded image.
    public static let lifetime: Duration = .seconds(3 * 86_400)

    /// Creates an uploader with one client per app id.
    public init(clients: [String: WeComContactClient]) {
        self.clients = clients
    }

    public func appKey(for group: Group) -> String? {
        group.app.map { "wecom:" + $0 }
    }

    public func upload(_ poster: Poster, for group: Group) async throws(AppCallError) -> UploadedMedia {
        guard let app = group.app, let client = clients[app] else {
            throw .malformed("group \(group.id) names no configured wecom app")
        }
        let upload = try await client.uploadImage(
            bytes: poster.bytes, filename: poster.filename, contentType: poster.format.contentType)
        return UploadedMedia(key: upload.mediaID, lifetime: Self.lifetime)
    }
}
