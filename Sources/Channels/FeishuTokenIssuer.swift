import Foundation
import GridcastCore
import Transport

/// A Feishu/Lark custom app's tenant access token: `POST {api}/open-apis/auth/v3/tenant_access_token/internal` with
/// `{"app_id","app_secret"}` answers `{"code":0,"msg","tenant_access_token","expire"}` (`expire` in seconds, at most
/// 2 hours; verified in Feishu's "自建应用获取 tenant_access_token" page). A code other than 0 is
/// ``AppCallError/refused(code:message:)``, its message scrubbed of the secret.
public struct FeishuTokenIssuer: TokenIssuer {
    /// The app whose token it asks for.
    public let app: FeishuApp
    /// The open-platform base URL calls go to (``FeishuApp/baseURL(forWebhook:)``).
    public let api: String

    /// Creates an issuer for `app` at `api`.
    public init(app: FeishuApp, api: String) {
        self.app = app
        self.api = api.hasSuffix("/") ? String(api.dropLast()) : api
    }

    private struct Request: Encodable {
        var appID: String
        var appSecret: String

        enum CodingKeys: String, CodingKey {
            case appID = "app_id"
            case appSecret = "app_secret"
        }
    }

    public func issue(using transport: any Transport) async throws(AppCallError) -> IssuedToken {
        let body = try AppText.json(Request(appID: app.appID, appSecret: app.appSecret))
        let request = HTTPRequest(
            url: api + "/open-apis/auth/v3/tenant_access_token/internal",
            headers: [HTTPHeader("Content-Type", "application/json; charset=utf-8")], body: body)
        let response: HTTPResponse
        switch await transport.send(request) {
        case .success(let answer): response = answer
        case .failure(let error): throw .transport(error)
        }
        let answer = try FeishuAnswer(response, hiding: [app.appSecret])
        guard let token = answer.object["tenant_access_token"] as? String, !token.isEmpty,
            let expire = (answer.object["expire"] as? NSNumber)?.intValue, expire > 0
        else {
            throw .malformed("the answer has no tenant_access_token or no expire")
        }
        return IssuedToken(value: token, lifetime: .seconds(expire))
    }
}
