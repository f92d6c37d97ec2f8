/// How a dispatcher names itself on its claims, and tells whether another claim's owner is still alive so its claims
/// can be ended at once instead of at their lease's end. On one machine that is the process's identity
/// (``ProcessLiveness``); a ledger shared by several hosts can answer from instance heartbeats kept in the store.
public protocol OwnerLiveness: Sendable {
    /// The owner this dispatcher writes on its claims.
    var owner: String { get }
    /// False only when `owner` is provably dead; anything that can't be told is alive.
    func isAlive(_ owner: String) -> Bool
}

/// This process's identity on this machine: host, machine instance, pid and start time (``LeaseOwner``).
public struct ProcessLiveness: OwnerLiveness {
    /// Liveness of processes on this machine, as this process.
    public init() {}

    public var owner: String { LeaseOwner.current.description }

    public func isAlive(_ owner: String) -> Bool { LeaseOwner.isAlive(owner) }
}
