import Foundation
import Transport

/// A Feishu open-platform answer: `code` 0 with its fields, or the error it names.
struct FeishuAnswer {
    /// The answer's top-level object.
    let object: [String: Any]

    /// Tokens Feishu no longer accepts: invalid (99991663) or expired (99991677).
    static let expiredTokenCodes: Set<Int> = [99991663, 99991677]

    /// Reads `response`, throwing the error it carries; its message is scrubbed of `secrets`.
    init(_ response: HTTPResponse, hiding secrets: [String] = []) throws(AppCallError) {
        if response.truncated { throw .malformed("the answer is longer than gridcast reads") }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let code = (parsed["code"] as? NSNumber)?.intValue
        else {
            throw (200...299).contains(response.status)
                ? .malformed("no code in the answer") : .http(status: response.status)
        }
        guard code == 0 else {
            throw .refused(code: code, message: AppText.scrubbed((parsed["msg"] as? String) ?? "", hiding: secrets))
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
