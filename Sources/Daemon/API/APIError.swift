import Hummingbird

/// Every answer other than success: a status and the JSON body `{"error": "...", "field": "..."}`, `field` naming
/// the input at fault (omitted when there is none).
///
/// Messages are written here or come from the intake's refusals, which name groups by id only: an error never
/// echoes the `Authorization` header, a token, or a group's URL.
struct APIError: Error, Sendable, Equatable, HTTPResponseError, CustomStringConvertible {
    /// The HTTP status.
    var status: HTTPResponse.Status
    /// What went wrong, for a person.
    var message: String
    /// The request field at fault, if any: a JSON key, `authorization`, `date`, `id`.
    var field: String?

    /// Creates an error.
    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    var description: String {
        "\(status.code) \(message)" + (field.map { " (field \($0))" } ?? "")
    }

    /// 400: the request can't be read (malformed JSON, a value of the wrong type, a bad query parameter).
    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, message, field: field)
    }

    /// 401: no bearer token, or the wrong one. The answer says nothing about which.
    static let unauthorized = APIError(.unauthorized, "missing or wrong bearer token", field: "authorization")

    /// 404: no such resource or route.
    static func notFound(_ message: String, field: String? = nil) -> APIError {
        APIError(.notFound, message, field: field)
    }

    /// 409: the id is taken by a notice with other content.
    static func conflict(_ message: String, field: String? = nil) -> APIError {
        APIError(.conflict, message, field: field)
    }

    /// 413: the body is larger than ``APISettings/maxBodySize``.
    static let contentTooLarge = APIError(
        .contentTooLarge, "request body is larger than \(APISettings.maxBodySize / 1024) KiB"
    )

    /// 422: the request is well-formed but can't be accepted (missing or invalid field, unknown group or tag).
    static func unprocessable(_ message: String, field: String? = nil) -> APIError {
        APIError(.unprocessableContent, message, field: field)
    }

    /// 500: something failed inside; the details go to the log, not to the client.
    static let internalError = APIError(.internalServerError, "internal error; see the daemon's log")

    /// The JSON answer.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The JSON answer, with `WWW-Authenticate` on 401.
    func response() -> Response {
        var response = JSONResponse.make(Body(error: message, field: field), status: status)
        if status == .unauthorized {
            response.headers[.wwwAuthenticate] = "Bearer realm=\"gridcast\""
        }
        return response
    }

    /// The wire shape.
    struct Body: Codable, Equatable {
        var error: String
        var field: String?
    }
}
