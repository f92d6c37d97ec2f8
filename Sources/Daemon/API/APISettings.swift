/// Where the HTTP API listens, the bearer token it requires and the audit page's read-only token (config `api:`).
///
/// The tokens are resolved by the caller (from `token:`/`token_file:`, `viewer_token:`/`viewer_token_file:`); they
/// are never part of a description, so logging the settings can't leak them.
public struct APISettings: Sendable {
    /// The largest request body accepted, in bytes; a larger one is answered 413.
    public static let maxBodySize = 64 * 1024

    /// The address to listen on, e.g. `127.0.0.1`.
    public var host: String
    /// The TCP port; 0 lets the system pick a free one (reported through `onServerRunning`).
    public var port: Int
    /// The bearer token every route but `/healthz` requires. An empty token refuses every request.
    public var token: String
    /// The audit page's read-only token: it logs in to the page and fetches its downloads, and changes nothing. Empty
    /// (the default) lets no viewer in; it never opens the `/v1` API.
    public var viewerToken: String
    /// How long a connection may take to send a request's headers (from opening, or from its previous answer) and
    /// then its body; a connection that takes longer is closed.
    public var readTimeout: Duration
    /// Open connections at most; further ones wait in the listen queue until one closes.
    public var maxConnections: Int

    /// Creates settings.
    public init(
        host: String = "127.0.0.1", port: Int = 8640, token: String, viewerToken: String = "",
        readTimeout: Duration = .seconds(10), maxConnections: Int = 256
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.viewerToken = viewerToken
        self.readTimeout = readTimeout
        self.maxConnections = maxConnections
    }
}

extension APISettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `host:port`, without the tokens.
    public var description: String { "\(host):\(port)" }
    /// Same as ``description``: the tokens never show.
    public var debugDescription: String { "APISettings(\(description), token: ***, viewer_token: ***)" }
    /// Hides the tokens from `dump` and the debugger.
    public var customMirror: Mirror {
        Mirror(self, children: ["host": host, "port": port, "token": "***", "viewerToken": "***"])
    }
}
