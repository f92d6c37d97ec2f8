/// What came back from the server: status, headers and a body capped at ``HTTPResponse/bodyLimit``.
public struct HTTPResponse: Sendable, Equatable {
    /// The largest body the transport keeps; the transfer stops reading once a body goes past it.
    public static let bodyLimit = 64 * 1024

    /// The HTTP status code of the final response.
    public var status: Int
    /// Header fields, names lowercased; a repeated field keeps its last value.
    public var headers: [String: String]
    /// The body, at most ``bodyLimit`` bytes.
    public var body: [UInt8]
    /// True when the server sent more than ``bodyLimit`` bytes.
    public var truncated: Bool

    /// Creates a response.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = [], truncated: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated
    }

    /// The value of a header field, looked up case-insensitively.
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// The body decoded as UTF-8 (invalid sequences repaired).
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }
}
