/// Why a request got no HTTP response.
///
/// The split matters for exactly-once: a request that was ``Kind-swift.enum/notSent`` may be sent again
/// safely, one whose ``Kind-swift.enum/outcomeUnknown`` may already have been delivered.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The two things a failed request can mean.
    public enum Kind: Sendable, Equatable {
        /// Nothing reached the server: name resolution, connect or TLS handshake failed.
        case notSent
        /// The request may have been written: a timeout or a lost connection after the connection was up.
        case outcomeUnknown
    }

    /// What the failure means for a retry.
    public var kind: Kind
    /// libcurl's error number (`CURLcode`), 0 when the failure did not come from libcurl.
    public var code: Int
    /// A short, secret-free explanation (libcurl's generic text for the code, never its URL-bearing buffer).
    public var reason: String
    /// Not sent because this process had no file descriptor left for a connection: nothing is wrong with the
    /// receiver, so the retry must not count against its attempts.
    public var outOfDescriptors: Bool

    /// Creates a transport error.
    public init(kind: Kind, code: Int, reason: String, outOfDescriptors: Bool = false) {
        self.kind = kind
        self.code = code
        self.reason = reason
        self.outOfDescriptors = outOfDescriptors
    }

    public var description: String {
        switch kind {
        case .notSent: "not sent (curl \(code): \(reason))"
        case .outcomeUnknown: "outcome unknown (curl \(code): \(reason))"
        }
    }
}
