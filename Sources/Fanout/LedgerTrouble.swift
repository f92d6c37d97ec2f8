import Foundation

/// A ledger that is failing writes, as the dispatcher sees it: when to try again, backing off from half a second to
/// ten while the failures go on.
struct LedgerTrouble: Sendable {
    /// How long this failure waits before the next try.
    let pause: Duration
    /// When to try the next commit.
    let retryAt: Date

    static let firstPause = Duration.milliseconds(500)
    static let maxPause = Duration.seconds(10)

    /// The trouble after one more failure at `now`, following `previous` (nil for the first failure).
    init(after previous: LedgerTrouble?, now: Date) {
        pause = previous.map { min($0.pause * 2, Self.maxPause) } ?? Self.firstPause
        retryAt = now.addingTimeInterval(pause.seconds)
    }
}
