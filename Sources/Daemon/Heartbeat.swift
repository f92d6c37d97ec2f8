import Synchronization

/// When a loop last turned: the dispatcher beats on every turn of its loop, and the status service reads how long
/// ago that was before it pings systemd's watchdog.
public final class Heartbeat: Sendable {
    private let origin = ContinuousClock.now
    /// Nanoseconds from `origin` to the last beat.
    private let last = Atomic<Int64>(0)

    /// Starts as if it had just beaten.
    public init() {}

    /// The loop is alive now.
    public func beat() {
        last.store(Self.nanoseconds(ContinuousClock.now - origin), ordering: .releasing)
    }

    /// Time since the last beat.
    public var age: Duration {
        (ContinuousClock.now - origin) - .nanoseconds(last.load(ordering: .acquiring))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
