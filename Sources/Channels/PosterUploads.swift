import GridcastCore
import Transport

/// The uploaders of the platforms that show a poster only once an app uploaded it, by sink name, and what they
/// uploaded. Keep one for the life of the process, so a poster is uploaded once per app.
public struct PosterUploads: Sendable {
    private let uploaders: [String: any PosterUploader]
    private let cache: MediaCache

    /// Uploads with `uploaders` (by sink name), remembering them in `cache`.
    public init(uploaders: [String: any PosterUploader], cache: MediaCache = MediaCache()) {
        self.uploaders = uploaders
        self.cache = cache
    }

    /// Feishu and Lark's image upload, over `transport`.
    public static func standard(transport: any Transport) -> PosterUploads {
        let feishu = FeishuImageUploader(tokens: AppTokens(transport: transport), transport: transport)
        return PosterUploads(uploaders: ["feishu": feishu, "lark": feishu])
    }

    /// The platform's reference to `poster` for `group`, uploaded now or earlier; nil when the group's platform has
    /// no uploader.
    public func media(for poster: Poster, group: Group) async throws(AppCallError) -> UploadedMedia? {
        guard let uploader = uploaders[group.sink] else { return nil }
        return try await cache.media(for: poster, group: group, uploader: uploader)
    }
}
