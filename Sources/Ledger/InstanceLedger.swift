import Foundation

/// Instances of gridcast that share a ledger, and how they know each other is alive (`docs/postgres.md`,
/// "Instances"). Each running `serve` beats every few seconds; a store shared across machines ends the claims of an
/// instance whose beat is older than its timeout at once, as the embedded store ends those of a dead process on its
/// own machine. A store used on one machine only needs no beats: its implementation records nothing.
public protocol InstanceLedger: Sendable {
    /// How often an instance must beat; nil when this store does not use beats.
    var heartbeatInterval: Duration? { get }

    /// Records that `instance` is alive now (on the store's clock), registering it the first time.
    func heartbeat(_ instance: InstanceIdentity) async throws

    /// Records that `instance` stopped cleanly: nothing of it is left to end.
    func stopped(_ instance: InstanceIdentity) async throws

    /// The instances that beat within the timeout, and those that stopped beating without stopping, newest first.
    func instances() async throws -> [InstanceStatus]
}

/// Who an instance is: its lease owner (host, boot, pid, start time) with the parts an operator reads.
public struct InstanceIdentity: Sendable, Hashable, Codable {
    /// The lease owner it writes on its claims.
    public var owner: String
    /// Its host name.
    public var host: String
    /// Its process id.
    public var pid: Int
    /// When it started.
    public var startedAt: Date

    /// Creates an identity.
    public init(owner: String, host: String, pid: Int, startedAt: Date) {
        self.owner = owner
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
    }
}

/// An instance as the ledger last heard of it.
public struct InstanceStatus: Sendable, Equatable, Codable {
    /// Who it is.
    public var identity: InstanceIdentity
    /// Its last beat.
    public var lastBeat: Date
    /// Whether it beat within the timeout.
    public var alive: Bool
    /// When it stopped cleanly, if it did.
    public var stoppedAt: Date?

    /// Creates a status.
    public init(identity: InstanceIdentity, lastBeat: Date, alive: Bool, stoppedAt: Date?) {
        self.identity = identity
        self.lastBeat = lastBeat
        self.alive = alive
        self.stoppedAt = stoppedAt
    }
}
