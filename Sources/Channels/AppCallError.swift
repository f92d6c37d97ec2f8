import Transport

/// Why a call to a platform's app API (a token, an upload, a task) failed. Secret-free: a token or app secret never
/// appears in one.
public enum AppCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request got no answer (see ``TransportError/Kind``: it may or may not have reached the platform).
    case transport(TransportError)
    /// The platform answered with an error code (`errcode`, `code`) and its message.
    case refused(code: Int, message: String)
    /// The platform refused calls from this machine's address (WeCom's 60020): it must be added to the app's trusted
    /// IPs. `address` is the one the platform saw, when it said.
    case untrustedIP(address: String?)
    /// The platform said it is busy (WeCom's -1, or 41063 for a task still being dispatched): try again shortly.
    case busy(code: Int)
    /// The platform's call-frequency or concurrency limit was hit (WeCom's 45009, 45033): wait `pause`, then retry.
    case rateLimited(code: Int, pause: Duration)
    /// The request was not sent: the platform would refuse `field` (`reason` says why).
    case invalid(field: String, reason: String)
    /// The platform answered HTTP `status` without a code gridcast could read.
    case http(status: Int)
    /// The answer wasn't what the platform documents.
    case malformed(String)

    /// Whether the same call may succeed later without anything changing: a network failure, a 5xx, the platform's
    /// "busy" or a frequency limit. A refused call (bad secret, untrusted IP, bad request) is not.
    public var isTransient: Bool {
        switch self {
        case .transport, .busy, .rateLimited: true
        case .http(let status): status == 429 || status >= 500
        case .refused(let code, _): code == -1 || Self.expiredTokenCodes.contains(code)
        case .untrustedIP, .invalid, .malformed: false
        }
    }

    /// Codes that say a token expired or was revoked (WeCom's and Feishu's): a call answered so even after its token
    /// was renewed once is tried again later, not given up.
    static let expiredTokenCodes = WeComAnswer.expiredTokenCodes.union(FeishuAnswer.expiredTokenCodes)

    /// Whether the call may have had its effect even though it failed (the answer was lost on the way back).
    public var outcomeUnknown: Bool {
        switch self {
        case .transport(let error): error.kind == .outcomeUnknown
        case .http(let status): status >= 500
        case .refused, .untrustedIP, .busy, .rateLimited, .invalid, .malformed: false
        }
    }

    public var description: String {
        switch self {
        case .transport(let error): error.description
        case .refused(let code, let message): "code \(code): \(message)"
        case .untrustedIP(let address):
            "code 60020: this machine's IP\(address.map { " \($0)" } ?? "") is not trusted by the app: add it to the "
                + "app's trusted IPs (企业可信IP) in the WeCom admin console"
        case .busy(let code): "code \(code): the platform is busy, try again shortly"
        case .rateLimited(let code, let pause):
            "code \(code): call limit reached, pausing \(pause.components.seconds) s"
        case .invalid(let field, let reason): "not sent: \(field): \(reason)"
        case .http(let status): "HTTP \(status)"
        case .malformed(let what): "unexpected answer: \(what)"
        }
    }
}
