import GridcastCore
import Hummingbird
import Ledger

/// `GET /v1/notices/{id}/poster`: the poster the ledger recorded for a notice, byte for byte, with its content type,
/// so an audit can show the exact image each group was sent (docs/rich-notices.md). The audit page's session reads it
/// at `/audit/poster/{id}` (``AuditController``).
struct PosterController: Sendable {
    let store: any LedgerStore

    /// 200 with the image; 404 when the notice is unknown or has no poster.
    @Sendable func poster(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await Self.image(of: try context.parameters.require("id"), in: store)
    }

    /// The recorded poster of notice `id` as an answer; throws 404 when the notice is unknown or has no poster.
    static func image(of id: String, in store: any LedgerStore) async throws -> Response {
        guard Notice.isValidID(id), let stored = try await store.notice(id: id) else {
            throw APIError.notFound("no notice with this id", field: "id")
        }
        guard let poster = stored.notice.poster else {
            throw APIError.notFound("this notice has no poster", field: "id")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: poster.format.contentType, .cacheControl: "private, max-age=86400, immutable",
                .eTag: "\"\(poster.sha256)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: poster.bytes))
        )
    }
}
