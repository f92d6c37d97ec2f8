import Fanout

/// Liveness decided by the test: this dispatcher's owner name, and which other owners count as dead (a crashed
/// run), everything else alive.
public struct FixedLiveness: OwnerLiveness {
    public let owner: String
    public let dead: Set<String>

    /// A dispatcher called `owner` that knows the owners in `dead` are gone.
    public init(owner: String = LeaseOwner.current.description, dead: Set<String> = []) {
        self.owner = owner
        self.dead = dead
    }

    public func isAlive(_ owner: String) -> Bool { !dead.contains(owner) }
}
