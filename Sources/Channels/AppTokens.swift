import Foundation
import Transport

/// Every app's token in this process, one ``AccessTokenCache`` per app, made when first needed: groups of one app
/// share its token.
public actor AppTokens {
    private let transport: any Transport
    private let now: @Sendable () -> Date
    private var caches: [String: AccessTokenCache] = [:]

    /// Creates the registry; tokens are asked for over `transport`.
    public init(transport: any Transport, now: @escaping @Sendable () -> Date = Date.init) {
        self.transport = transport
        self.now = now
    }

    /// The cache of the app `key` names, made with `issuer` the first time.
    public func cache(for key: String, issuer: () -> any TokenIssuer) -> AccessTokenCache {
        if let cache = caches[key] { return cache }
        let cache = AccessTokenCache(issuer: issuer(), transport: transport, now: now)
        caches[key] = cache
        return cache
    }
}
