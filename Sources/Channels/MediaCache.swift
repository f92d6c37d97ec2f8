import Foundation
import GridcastCore

/// Posters uploaded in this process, by app and SHA-256: each is uploaded once per app and reused while the
/// platform keeps it (WeCom's `media_id` lives three days; Feishu's `image_key` doesn't expire), however many groups
/// need it at the same moment.
public actor MediaCache {
    private let now: @Sendable () -> Date
    private var uploaded: [String: (media: UploadedMedia, reuseUntil: Date?)] = [:]
    private var pending: [String: Task<UploadedMedia, any Error>] = [:]

    /// A reference is not reused within this long of its expiry, so a message never names one that lapsed on the way.
    public static let expiryMargin: TimeInterval = 3600

    /// Creates an empty cache.
    public init(now: @escaping @Sendable () -> Date = Date.init) {
        self.now = now
    }

    /// The platform's reference to `poster` for `group`, uploading it with `uploader` unless it was already.
    public func media(
        for poster: Poster, group: Group, uploader: any PosterUploader
    ) async throws(AppCallError) -> UploadedMedia {
        guard let app = uploader.appKey(for: group) else {
            return try await uploader.upload(poster, for: group)
        }
        let key = app + "|" + poster.sha256
        if let cached = uploaded[key], cached.reuseUntil.map({ now() < $0 }) ?? true { return cached.media }
        let task: Task<UploadedMedia, any Error>
        if let running = pending[key] {
            task = running
        } else {
            task = Task { try await uploader.upload(poster, for: group) }
            pending[key] = task
        }
        let media: UploadedMedia
        do {
            media = try await task.value
        } catch {
            if pending[key] == task { pending[key] = nil }
            throw (error as? AppCallError) ?? .malformed("\(error)")
        }
        if pending[key] == task {
            pending[key] = nil
            let reuseUntil = media.lifetime.map {
                now().addingTimeInterval(Double($0.components.seconds) - Self.expiryMargin)
            }
            uploaded[key] = (media, reuseUntil)
        }
        return media
    }
}
