import Channels
import GridcastCore
import Transport

/// What customer-group sending keeps for the life of the process, across reloads: each app's token and the posters
/// uploaded for it.
public struct CustomerGroupSessions: Sendable {
    let tokens: AppTokens
    let media: MediaCache
    let transport: any Transport

    /// Creates the sessions; calls go over `transport`.
    public init(transport: any Transport) {
        self.transport = transport
        tokens = AppTokens(transport: transport)
        media = MediaCache()
    }

    /// A client for each of `config`'s apps, sharing the tokens kept here.
    func clients(for config: GridcastConfig) async -> [String: WeComContactClient] {
        var clients: [String: WeComContactClient] = [:]
        for app in config.wecomApps {
            // Keyed by everything that makes a token: a reload that changes the secret or host gets a new one.
            let key = "wecom:\(app.api)#\(app.corpID)#\(app.id)#\(app.secret.hashValue)"
            let cache = await tokens.cache(for: key) { WeComTokenIssuer(app: app) }
            clients[app.id] = WeComContactClient(app: app, transport: transport, tokens: cache)
        }
        return clients
    }
}
