import Transport

extension WeComContactClient {
    /// The largest image sent to `media/upload`: 2 MiB. WeCom's temporary-material documentation said 2 MB for an
    /// image, newer copies say 10 MB; a gridcast poster is at most 2 MiB, so the lower figure refuses none.
    public static let imageByteLimit = 2 * 1024 * 1024

    /// Uploads an image as temporary material (`POST media/upload?type=image`, multipart field `media` with its file
    /// name and content type); its `media_id` is valid for 3 days.
    public func uploadImage(
        bytes: [UInt8], filename: String, contentType: String
    ) async throws(AppCallError) -> WeComUpload {
        // WeCom refuses files of 5 bytes or fewer (temporary-material documentation).
        guard bytes.count > 5 else {
            throw .invalid(field: "media", reason: "\(bytes.count) bytes, more than 5 needed")
        }
        guard bytes.count <= Self.imageByteLimit else {
            throw .invalid(field: "media", reason: "\(bytes.count) bytes, at most \(Self.imageByteLimit)")
        }
        var form = MultipartForm(seed: Array("wecom-media:\(filename):".utf8) + bytes)
        form.file("media", filename: filename, contentType: contentType, bytes)
        return try await send(
            "media/upload", query: [("type", "image")], body: form.finished, contentType: form.contentType,
            answer: WeComUpload.self, timeout: .seconds(60))
    }
}
