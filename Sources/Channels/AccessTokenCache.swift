import Foundation
import Transport

/// An access token as a platform issued it.
public struct IssuedToken: Sendable, Equatable {
    /// The token. Never log it.
    public var value: String
    /// How long the platform says it lives.
    public var lifetime: Duration

    /// Creates a token.
    public init(value: String, lifetime: Duration) {
        self.value = value
        self.lifetime = lifetime
    }
}

/// How one app gets an access token from its credentials (Feishu's tenant token, WeCom's `gettoken`).
public protocol TokenIssuer: Sendable {
    /// Asks the platform for a new token.
    func issue(using transport: any Transport) async throws(AppCallError) -> IssuedToken
}

/// One app's access token, reused until shortly before it expires or until the platform says it is no longer
/// valid, and asked for once however many calls need it at the same moment.
public actor AccessTokenCache {
    private let issuer: any TokenIssuer
    private let transport: any Transport
    private let now: @Sendable () -> Date
    private var current: (value: String, renewAt: Date)?
    private var pending: Task<IssuedToken, any Error>?

    /// Tokens are renewed this long before the platform would expire them.
    public static let renewalMargin: Duration = .seconds(300)

    /// Creates a cache that asks `issuer` over `transport`.
    public init(issuer: any TokenIssuer, transport: any Transport, now: @escaping @Sendable () -> Date = Date.init) {
        self.issuer = issuer
        self.transport = transport
        self.now = now
    }

    /// A token that is valid now, asking the platform for one when there is none.
    public func token() async throws(AppCallError) -> String {
        if let current, now() < current.renewAt { return current.value }
        let task: Task<IssuedToken, any Error>
        if let pending {
            task = pending
        } else {
            let issuer = issuer
            let transport = transport
            task = Task { try await issuer.issue(using: transport) }
            pending = task
        }
        let issued: IssuedToken
        do {
            issued = try await task.value
        } catch let error as AppCallError {
            if pending == task { pending = nil }
            throw error
        } catch {
            if pending == task { pending = nil }
            throw .malformed("\(error)")
        }
        if pending == task {
            pending = nil
            let seconds = Double((issued.lifetime - Self.renewalMargin).components.seconds)
            current = (issued.value, now().addingTimeInterval(max(0, seconds)))
        }
        return issued.value
    }

    /// Forgets `token` after the platform said it is expired or invalid, so the next call asks for a new one.
    public func invalidate(_ token: String) {
        if current?.value == token { current = nil }
    }
}
