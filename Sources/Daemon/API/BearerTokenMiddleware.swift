import Hummingbird

/// Lets a request through only with `Authorization: Bearer <token>`, compared in constant time; otherwise 401.
///
/// Routes registered before this middleware (`/healthz`) don't pass through it. The header is never logged or echoed.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let token: [UInt8]

    /// Creates the middleware for `token`; an empty token lets nothing through.
    init(token: String) {
        self.token = Array(token.utf8)
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let presented = Self.bearerToken(in: request.headers[values: .authorization]),
            ConstantTimeComparison.equal(presented, token)
        else {
            throw APIError.unauthorized
        }
        return try await next(request, context)
    }

    /// The credentials of the one `Authorization: Bearer …` field; nil when there is none, or more than one.
    static func bearerToken(in values: [String]) -> Substring? {
        guard values.count == 1, let value = values.first else { return nil }
        let trimmed = value.drop(while: { $0 == " " })
        guard let space = trimmed.firstIndex(of: " "), trimmed[..<space].lowercased() == "bearer" else { return nil }
        let credentials = trimmed[space...].drop(while: { $0 == " " })
        var end = credentials.endIndex
        while end > credentials.startIndex, credentials[credentials.index(before: end)] == " " {
            end = credentials.index(before: end)
        }
        return credentials[..<end]
    }
}
