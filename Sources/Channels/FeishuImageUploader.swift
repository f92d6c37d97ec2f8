import Foundation
import GridcastCore
import Transport

/// Uploads posters for Feishu/Lark groups that have an app (`feishu_app:`): `POST {api}/open-apis/im/v1/images`,
/// multipart `image_type=message` and `image`, with the app's tenant token as `Authorization: Bearer`; the answer's
/// `data.image_key` is what a custom bot's `msg_type: image` shows. Keys don't expire.
public struct FeishuImageUploader: PosterUploader {
    private let tokens: AppTokens
    private let transport: any Transport

    /// Feishu takes images up to 10 MB.
    public static let maxBytes = 10 * 1024 * 1024

    /// Creates an uploader that asks for tokens through `tokens`.
    public init(tokens: AppTokens, transport: any Transport) {
        self.tokens = tokens
        self.transport = transport
    }

    public func appKey(for group: Group) -> String? {
        guard let app = group.feishuApp else { return nil }
        return "feishu:" + app.baseURL(forWebhook: group.url) + "#" + app.appID
    }

    public func upload(_ poster: Poster, for group: Group) async throws(AppCallError) -> UploadedMedia {
        guard let app = group.feishuApp, let appKey = appKey(for: group) else {
            throw .malformed("group \(group.id) has no feishu_app")
        }
        let base = app.baseURL(forWebhook: group.url)
        let cache = await tokens.cache(for: appKey) { FeishuTokenIssuer(app: app, api: base) }
        var form = MultipartForm(seed: poster.sha256 + "feishu")
        form.field("image_type", "message")
        form.file("image", filename: poster.filename, contentType: poster.format.contentType, poster.bytes)
        let body = form.finished
        let contentType = form.contentType
        let response = try await TokenedCall(tokens: cache, transport: transport).send(
            { token in
                HTTPRequest(
                    url: base + "/open-apis/im/v1/images",
                    headers: [HTTPHeader("Authorization", "Bearer " + token), HTTPHeader("Content-Type", contentType)],
                    body: body, timeout: .seconds(30))
            }, expired: FeishuAnswer.tokenExpired)
        let answer = try FeishuAnswer(response)
        guard let data = answer.object["data"] as? [String: Any], let key = data["image_key"] as? String, !key.isEmpty
        else { throw .malformed("no image_key in the answer") }
        return UploadedMedia(key: key)
    }
}
