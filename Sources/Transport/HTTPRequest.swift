/// One HTTP request as a sink renders it: everything the transport needs, nothing it has to guess.
public struct HTTPRequest: Sendable, Equatable {
    /// The HTTP method, `POST` for every webhook.
    public var method: String
    /// The absolute `http://` or `https://` URL. It may carry a secret (a bot key, a token): never log it.
    public var url: String
    /// Header fields in the order they are sent.
    public var headers: [HTTPHeader]
    /// The exact body bytes.
    public var body: [UInt8]
    /// The whole request's deadline, connect included.
    public var timeout: Duration
    /// The most response-body bytes kept; reading stops past it and the response says ``HTTPResponse/truncated``.
    public var responseLimit: Int

    /// Creates a request.
    public init(
        method: String = "POST",
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8] = [],
        timeout: Duration = .seconds(15),
        responseLimit: Int = HTTPResponse.bodyLimit
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.responseLimit = responseLimit
    }
}

/// One header field.
public struct HTTPHeader: Sendable, Equatable {
    /// The field name as sent.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
