import Fanout
import Foundation
import GridcastCore

/// The body of `POST /v1/notices`: `{id?, title?, text, to, urgent?, image?, image_url?, link?}`.
///
/// The decoding itself is ``NoticeBody`` in GridcastCore (pure, so it is tested and fuzzed without the server);
/// this maps its problems to HTTP: a malformed body (not JSON, not an object, a value of the wrong type) is 400, an
/// incomplete or invalid one (`text` or `to` missing, an unknown key, an oversize title) is 422, naming the field
/// whenever there is one.
struct NoticeRequest: Sendable, Equatable {
    var id: String?
    var title: String?
    var text: String
    var to: String
    var urgent: Bool?
    var poster: Poster?
    var link: LinkCard?

    /// Reads the request from the body bytes.
    /// - Throws: ``APIError`` (400 or 422).
    init(json: some Sequence<UInt8>) throws(APIError) {
        let body: NoticeBody
        do {
            body = try NoticeBody(json: json)
        } catch {
            switch error.kind {
            case .malformed: throw .badRequest(error.message, field: error.field)
            case .invalid: throw .unprocessable(error.message, field: error.field)
            }
        }
        self.id = body.id
        self.title = body.title
        self.text = body.text
        self.to = body.to
        self.urgent = body.urgent
        self.poster = body.poster
        self.link = body.link
    }

    /// The request as the intake takes it.
    var submission: NoticeIntake.Submission {
        .init(id: id, title: title ?? "", text: text, to: to, urgent: urgent ?? false, poster: poster, link: link)
    }
}
