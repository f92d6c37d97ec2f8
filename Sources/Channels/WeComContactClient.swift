import GridcastCore
import Transport

/// WeCom's customer-contact API for mass messages to customer groups: list groups, upload a poster, create a task,
/// read its status and results, remind, cancel. One method per call, each sent through ``TokenedCall`` with the
/// token as `?access_token=`, renewed once when WeCom answers 40014, 42001 or 42009 (40001 means a wrong secret, which
/// a new token cannot fix). Every errcode becomes an ``AppCallError`` the caller can act on.
public struct WeComContactClient: Sendable {
    /// The app.
    public let app: WeComApp
    /// The app's token, shared by every client of the app.
    public let tokens: AccessTokenCache
    private let call: TokenedCall

    /// Creates a client for `app` over `transport`; `tokens` shares one app's token between clients (a new cache
    /// when nil).
    public init(app: WeComApp, transport: any Transport, tokens: AccessTokenCache? = nil) {
        self.app = app
        let tokens = tokens ?? AccessTokenCache(issuer: WeComTokenIssuer(app: app), transport: transport)
        self.tokens = tokens
        call = TokenedCall(tokens: tokens, transport: transport)
    }

    /// POSTs `body` as JSON to `{api}/cgi-bin/{path}` and reads the answer as `Answer`.
    func post<Body: Encodable, Answer: Decodable>(
        _ path: String, _ body: Body, answer: Answer.Type
    ) async throws(AppCallError) -> Answer {
        let bytes = try AppText.json(body)
        return try await send(path, body: bytes, contentType: "application/json", answer: answer)
    }

    /// POSTs `body` to `{api}/cgi-bin/{path}?access_token=…&{query}` and reads the answer as `Answer`.
    func send<Answer: Decodable>(
        _ path: String, query: [(String, String)] = [], body: [UInt8], contentType: String, answer: Answer.Type,
        timeout: Duration = .seconds(15)
    ) async throws(AppCallError) -> Answer {
        let api = app.api
        var sentToken = ""
        let response = try await call.send(
            { token in
                sentToken = token
                return HTTPRequest(
                    url: WeComAPI.url(api, path, query: [("access_token", token)] + query),
                    headers: [HTTPHeader("Content-Type", contentType)], body: body, timeout: timeout,
                    responseLimit: WeComAPI.responseLimit)
            },
            expired: { response in
                WeComAnswer.errcode(of: response).map(WeComAnswer.expiredTokenCodes.contains) ?? false
            }
        )
        return try WeComAnswer.decode(answer, from: response, hiding: [sentToken, app.secret])
    }

    /// Every page's items: `fetch` is given each page's cursor (nil first) and answers its items and the next
    /// cursor. A cursor WeCom gives twice ends the walk as malformed rather than looping.
    func allPages<Item>(
        _ fetch: (String?) async throws(AppCallError) -> (items: [Item], next: String?)
    ) async throws(AppCallError) -> [Item] {
        var items: [Item] = []
        var cursor: String?
        var seen: Set<String> = []
        repeat {
            let page = try await fetch(cursor)
            items += page.items
            cursor = page.next.flatMap { $0.isEmpty ? nil : $0 }
            if let cursor, !seen.insert(cursor).inserted { throw .malformed("next_cursor repeats an earlier page's") }
        } while cursor != nil
        return items
    }
}
