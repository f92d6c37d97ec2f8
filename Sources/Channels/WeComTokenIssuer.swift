import GridcastCore
import Transport

/// A WeCom app's access token: `GET {api}/cgi-bin/gettoken?corpid=&corpsecret=` answers `access_token` and
/// `expires_in` (seconds, 7200 in WeCom's documentation). An errcode other than 0 is the error it means (60020:
/// this machine's IP is not trusted; 40001: the secret is wrong); no error holds the secret.
public struct WeComTokenIssuer: TokenIssuer {
    /// The app whose token it asks for.
    public let app: WeComApp

    /// Creates an issuer for `app`.
    public init(app: WeComApp) {
        self.app = app
    }

    private struct Answer: Decodable {
        var accessToken: String
        var expiresIn: Int

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case expiresIn = "expires_in"
        }
    }

    public func issue(using transport: any Transport) async throws(AppCallError) -> IssuedToken {
        let url = WeComAPI.url(app.api, "gettoken", query: [("corpid", app.corpID), ("corpsecret", app.secret)])
        let response: HTTPResponse
        switch await transport.send(HTTPRequest(method: "GET", url: url)) {
        case .success(let answer): response = answer
        case .failure(let error): throw .transport(error)
        }
        let answer = try WeComAnswer.decode(Answer.self, from: response, hiding: [app.secret])
        guard !answer.accessToken.isEmpty, answer.expiresIn > 0 else {
            throw .malformed("gettoken answered no access_token or no expires_in")
        }
        return IssuedToken(value: answer.accessToken, lifetime: .seconds(answer.expiresIn))
    }
}
