/// What came back from the server: status, headers and a body capped at the request's
/// ``HTTPRequest/responseLimit`` (``HTTPResponse/bodyLimit`` unless the request says otherwise).
public struct HTTPResponse: Sendable, Equatable {
    /// The largest body the transport keeps by default; the transfer stops reading once a body goes past it.
    public static let bodyLimit = 64 * 1024

    /// The HTTP status code of the final response.
    public var status: Int
    /// The final response's header fields, as received.
    public var fields: HeaderFields
    /// The body, at most the request's ``HTTPRequest/responseLimit`` bytes.
    public var body: [UInt8]
    /// True when the server sent more than the request's ``HTTPRequest/responseLimit`` bytes.
    public var truncated: Bool

    /// Header fields by lowercased name; a repeated field keeps its last value. Decoded on each call: sinks that
    /// need one field ask ``header(_:)``.
    public var headers: [String: String] { fields.dictionary }

    /// Creates a response with header fields given by name.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = [], truncated: Bool = false) {
        self.init(status: status, fields: HeaderFields(headers), body: body, truncated: truncated)
    }

    /// Creates a response with header fields as received.
    public init(status: Int, fields: HeaderFields, body: [UInt8] = [], truncated: Bool = false) {
        self.status = status
        self.fields = fields
        self.body = body
        self.truncated = truncated
    }

    /// The value of a header field, looked up case-insensitively.
    public func header(_ name: String) -> String? {
        fields.value(named: name)
    }

    /// The body decoded as UTF-8 (invalid sequences repaired).
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }
}
