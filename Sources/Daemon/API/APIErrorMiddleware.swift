import Hummingbird
import Logging

/// Turns every error below it into the API's JSON error answer: ``APIError`` as it is, Hummingbird's own errors
/// (no route → 404, body over the limit → 413) by their status, anything else into a logged 500.
///
/// The outermost middleware, so the 404 of an unknown route and the 401 of the token check are JSON too.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            if error.status == .unauthorized {
                context.logger.notice(
                    "api request refused", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)"]
                )
            }
            return error.response()
        } catch let error as any HTTPResponseError {
            return Self.translate(error.status).response()
        } catch {
            // Our own code: ledger failures. Their descriptions are secret-free (the ledger holds no secrets).
            context.logger.error(
                "api request failed",
                metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"]
            )
            return APIError.internalError.response()
        }
    }

    /// The API error for a status Hummingbird chose.
    static func translate(_ status: HTTPResponse.Status) -> APIError {
        switch status {
        case .notFound: .notFound("no such route")
        case .contentTooLarge: .contentTooLarge
        case .badRequest: .badRequest("malformed request")
        case .methodNotAllowed: APIError(.methodNotAllowed, "method not allowed")
        default: status.code >= 500 ? .internalError : APIError(status, status.reasonPhrase.lowercased())
        }
    }
}
