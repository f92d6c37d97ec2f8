/// The seam between the dispatcher and the network: send one request, get a response or a classified failure.
///
/// ``CurlTransport`` is the implementation; tests use it too, against real loopback servers.
public protocol Transport: Sendable {
    /// Sends a request and waits for its response.
    ///
    /// Never throws: every failure comes back as a ``TransportError`` that says whether the request could
    /// have reached the server.
    func send(_ request: HTTPRequest) async -> Result<HTTPResponse, TransportError>
}
