import Fanout
import Foundation
import GridcastCore
import Hummingbird
import Ledger
import Logging

/// `POST /v1/notices`, `GET /v1/notices/{id}` and `DELETE /v1/notices/{id}`: a thin shell over ``NoticeIntake``
/// and the ledger, as `gridcast send` and `gridcast ledger cancel` are on the command line.
struct NoticeController: Sendable {
    /// The intake of the current config (it changes on reload).
    let intake: @Sendable () async -> NoticeIntake
    let store: any LedgerStore
    let now: @Sendable () -> Date

    /// The largest `POST /v1/notices` body, in bytes (3 MiB): room for the largest poster (``Notice/maxPosterBytes``,
    /// 2 MiB, about 2.7 MiB in base64) besides the rest, which may have ``APISettings/maxBodySize`` as on every
    /// other route.
    static let maxBodySize = 3 * 1024 * 1024

    /// 413 for a body whose part other than the poster is larger than every other route allows.
    static let restTooLarge = APIError(
        .contentTooLarge,
        "request body is larger than \(APISettings.maxBodySize / 1024) KiB besides its poster (which may have 2 MiB)")

    /// Adds the routes to `group` (mounted at `/v1/notices`).
    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post(use: submit)
        group.get("{id}", use: status)
        group.get("{id}/poster", use: PosterController(store: store).poster)
        group.delete("{id}", use: cancel)
    }

    /// Plans a notice: 202 when new or when a wider `to` added deliveries to a known notice (`added` says how many),
    /// 200 when nothing new was planned, 409 when the id holds other content, 422 when invalid, 400 when unreadable.
    @Sendable func submit(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodySize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(
                .contentTooLarge, "request body is larger than \(Self.maxBodySize / 1024) KiB (a poster may have 2 MiB)"
            )
        }
        // Only a poster may take a body past the usual limit: a large body without one is refused unread, and with
        // one, the rest is held to the usual limit before anything is planned (a huge text costs splitting).
        let size = body.readableBytes
        if size > APISettings.maxBodySize, Data(body.readableBytesView).range(of: Data(#""image""#.utf8)) == nil {
            throw Self.restTooLarge
        }
        let notice = try NoticeRequest(json: body.readableBytesView)
        if size - (notice.poster.map { ($0.bytes.count + 2) / 3 * 4 } ?? 0) > APISettings.maxBodySize {
            throw Self.restTooLarge
        }
        let receipt: NoticeIntake.Receipt
        do {
            receipt = try await intake().submit(notice.submission, origin: "api", now: now())
        } catch let refusal as NoticeIntake.Refusal {
            switch refusal.kind {
            case .conflict:
                throw APIError.conflict(
                    "a notice with this id already exists with different content; choose another id", field: "id"
                )
            case .invalid:
                throw APIError.unprocessable(refusal.message, field: refusal.field)
            }
        }
        context.logger.info(
            "api notice",
            metadata: [
                "notice": "\(receipt.noticeID)", "created": "\(receipt.created)",
                "deliveries": "\(receipt.deliveries)", "added": "\(receipt.added)",
            ]
        )
        return JSONResponse.make(
            NoticeReceiptAnswer(
                id: receipt.noticeID, deliveries: receipt.deliveries, created: receipt.created, added: receipt.added,
                quotaRefused: receipt.quotaRefused.sorted { $0.key < $1.key }.map {
                    NoticeReceiptAnswer.QuotaRefusal(group: $0.key, reason: $0.value)
                }),
            status: receipt.created || receipt.added > 0 ? .accepted : .ok
        )
    }

    /// The most deliveries one answer lists (`limit`), and how many it lists unless asked.
    static let maxPage = 10_000
    static let defaultPage = 1_000

    /// A notice, its counts, and a page of its per-group states (`?limit=`, `?after=` the previous page's `next`);
    /// 404 when unknown, 400 for a bad `limit` or `after`.
    @Sendable func status(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard Notice.isValidID(id), let notice = try await store.notice(id: id) else {
            throw APIError.notFound("no notice with this id", field: "id")
        }
        let query = request.uri.queryParameters
        var limit = Self.defaultPage
        if let text = query["limit"] {
            guard let parsed = Int(text), (1...Self.maxPage).contains(parsed) else {
                throw APIError.badRequest("expected a number of deliveries from 1 to \(Self.maxPage)", field: "limit")
            }
            limit = parsed
        }
        let after = query["after"].map(String.init)
        let page: [DeliveryRecord]
        do {
            // One more than asked: whether there is a next page.
            page = try await store.deliveries(matching: DeliveryFilter(noticeID: id, after: after, limit: limit + 1))
        } catch let error as LedgerError where error.isInvalid {
            throw APIError.badRequest("no delivery '\(after ?? "")' to list after: use a page's `next`", field: "after")
        }
        async let counts = store.stateCounts(noticeID: id)
        async let taskMsgids = store.taskMessageIDs(noticeIDs: [id])
        // Held back by quiet hours: the planned ones, wherever they are in the pages.
        async let planned = store.deliveries(noticeID: id, states: [.planned], limit: Int.max)
        var answer = try await NoticeStatusAnswer(
            notice: notice, deliveries: Array(page.prefix(limit)), counts: counts, taskMsgids: taskMsgids, now: now())
        answer.heldUntil = try await planned.compactMap(\.nextAt).filter { $0 > now() }.max()
        answer.next = page.count > limit ? page[limit - 1].id : nil
        return JSONResponse.make(answer)
    }

    /// Cancels a notice's unsent deliveries (planned, retry), as `gridcast ledger cancel`: 200 with what was
    /// cancelled and what is in flight (claimed, not cancelled), 404 when unknown.
    @Sendable func cancel(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard Notice.isValidID(id), try await store.notice(id: id) != nil else {
            throw APIError.notFound("no notice with this id", field: "id")
        }
        let result = try await store.cancel(
            DeliverySelection(noticeID: id), by: "api", note: "DELETE /v1/notices/\(id)", at: now())
        context.logger.info(
            "api notice cancelled",
            metadata: [
                "notice": "\(id)", "cancelled": "\(result.changed.count)",
                "in_flight": "\(result.unchanged.filter { $0.state == .claimed }.count)",
            ]
        )
        return try await JSONResponse.make(
            NoticeCancelAnswer(id: id, result: result, counts: store.stateCounts(noticeID: id)))
    }
}
