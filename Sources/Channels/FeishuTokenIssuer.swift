import Foundation
import GridcastCore
import Transport

/// Feishu/Lark's tenant token for a self-built app: `POST {api}/open-apis/auth/v3/tenant_access_token/internal` with
/// `app_id` and `app_secret`, answered `{"code":0,"tenant_access_token":…,"expire":SECONDS}`.
public struct FeishuTokenIssuer: TokenIssuer {
    /// The app.
    public let app: FeishuApp
    /// The open-platform base URL (no trailing slash).
    public let baseURL: String

    /// Creates an issuer for `app` at `baseURL`.
    public init(app: FeishuApp, baseURL: String) {
        self.app = app
        self.baseURL = baseURL
    }

    public func issue(using transport: any Transport) async throws(AppCallError) -> IssuedToken {
        let body = try? JSONSerialization.data(
            withJSONObject: ["app_id": app.appID, "app_secret": app.appSecret], options: [.sortedKeys])
        let request = HTTPRequest(
            url: baseURL + "/open-apis/auth/v3/tenant_access_token/internal",
            headers: [HTTPHeader("Content-Type", "application/json; charset=utf-8")],
            body: Array(body ?? Data()), timeout: .seconds(15))
        let response: HTTPResponse
        switch await transport.send(request) {
        case .success(let answer): response = answer
        case .failure(let error): throw .transport(error)
        }
        let answer = try FeishuAnswer(response)
        guard let token = answer.object["tenant_access_token"] as? String, !token.isEmpty else {
            throw .malformed("no tenant_access_token in the answer")
        }
        let seconds = (answer.object["expire"] as? NSNumber)?.intValue ?? 7200
        return IssuedToken(value: token, lifetime: .seconds(seconds))
    }
}

/// A Feishu open-platform answer: `code` 0 with its fields, or the error it names.
struct FeishuAnswer {
    /// The answer's top-level object.
    let object: [String: Any]

    /// Tokens Feishu no longer accepts: invalid (99991663) or expired (99991677).
    static let expiredTokenCodes: Set<Int> = [99991663, 99991677]

    /// Reads `response`, throwing the error it carries.
    init(_ response: HTTPResponse) throws(AppCallError) {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let code = (parsed["code"] as? NSNumber)?.intValue
        else {
            throw (200...299).contains(response.status)
                ? .malformed("no code in the answer") : .http(status: response.status)
        }
        guard code == 0 else {
            throw .refused(code: code, message: (parsed["msg"] as? String) ?? "")
        }
        object = parsed
    }

    /// Whether `response` says the token it carried is no longer valid.
    static func tokenExpired(_ response: HTTPResponse) -> Bool {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let code = (parsed["code"] as? NSNumber)?.intValue
        else { return false }
        return expiredTokenCodes.contains(code)
    }
}
