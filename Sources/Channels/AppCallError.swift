import Transport

/// Why a call to a platform's app API (a token, an upload, a task) failed. Secret-free: a token or app secret never
/// appears in one.
public enum AppCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request got no answer (see ``TransportError/Kind``: it may or may not have reached the platform).
    case transport(TransportError)
    /// The platform answered with an error code (`errcode`, `code`) and its message.
    case refused(code: Int, message: String)
    /// The platform answered HTTP `status` without a code gridcast could read.
    case http(status: Int)
    /// The answer wasn't what the platform documents.
    case malformed(String)

    /// Whether the same call may succeed later without anything changing: a network failure, a 5xx, the platform's
    /// "busy". A refused call (bad secret, untrusted IP, bad request) is not.
    public var isTransient: Bool {
        switch self {
        case .transport: true
        case .http(let status): status == 429 || status >= 500
        case .refused(let code, _): code == -1
        case .malformed: false
        }
    }

    /// Whether the call may have had its effect even though it failed (the answer was lost on the way back).
    public var outcomeUnknown: Bool {
        switch self {
        case .transport(let error): error.kind == .outcomeUnknown
        case .http(let status): status >= 500
        case .refused, .malformed: false
        }
    }

    public var description: String {
        switch self {
        case .transport(let error): error.description
        case .refused(let code, let message): "code \(code): \(message)"
        case .http(let status): "HTTP \(status)"
        case .malformed(let what): "unexpected answer: \(what)"
        }
    }
}
