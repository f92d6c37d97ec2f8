import Fanout
import Foundation
import Synchronization

/// Virtual time for the dispatcher and the emulator: `sleep(until:)` moves the clock forward at once, so a test of
/// minutes of pacing runs in milliseconds and can still assert on the spacing.
public final class VirtualClock: DispatchClock {
    private let start: Date
    private let elapsedNanoseconds = Atomic<Int64>(0)

    /// A clock starting at `start`.
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.start = start
    }

    public func now() -> Date {
        start.addingTimeInterval(Double(elapsedNanoseconds.load(ordering: .acquiring)) / 1e9)
    }

    public func sleep(until date: Date) async throws {
        let target = Int64(date.timeIntervalSince(start) * 1e9)
        var current = elapsedNanoseconds.load(ordering: .acquiring)
        while current < target {
            let (exchanged, original) = elapsedNanoseconds.compareExchange(
                expected: current, desired: target, ordering: .acquiringAndReleasing
            )
            if exchanged { break }
            current = original
        }
        await Task.yield()
    }

    /// Seconds of virtual time since the start.
    public var elapsed: TimeInterval {
        Double(elapsedNanoseconds.load(ordering: .acquiring)) / 1e9
    }
}
