import Foundation

/// The dispatcher's sense of time; tests inject a virtual clock so waits take no real time.
public protocol DispatchClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Waits until `date` (or returns early when cancelled).
    func sleep(until date: Date) async throws
}

/// Wall-clock time.
public struct SystemDispatchClock: DispatchClock {
    /// Creates the clock.
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
    }
}
