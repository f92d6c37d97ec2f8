import Transport

/// Sends an app API request that carries an access token, and when the platform answers that the token has expired
/// (or was revoked) asks for a new one and sends the request once more.
public struct TokenedCall: Sendable {
    /// The app's token.
    public let tokens: AccessTokenCache
    /// Where requests go.
    public let transport: any Transport

    /// Creates a caller.
    public init(tokens: AccessTokenCache, transport: any Transport) {
        self.tokens = tokens
        self.transport = transport
    }

    /// Sends the request `build` makes with a token; `expired` says whether an answer means the token is no longer
    /// valid. Returns the answer to the last request sent.
    public func send(
        _ build: (String) -> HTTPRequest, expired: (HTTPResponse) -> Bool
    ) async throws(AppCallError) -> HTTPResponse {
        var renewed = false
        while true {
            let token = try await tokens.token()
            let response: HTTPResponse
            switch await transport.send(build(token)) {
            case .success(let answer): response = answer
            case .failure(let error): throw .transport(error)
            }
            guard expired(response), !renewed else { return response }
            await tokens.invalidate(token)
            renewed = true
        }
    }
}
