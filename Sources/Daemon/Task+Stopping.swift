import Foundation
import ServiceLifecycle

extension Task where Success == Never, Failure == Never {
    /// True once the service should end: a graceful shutdown (SIGTERM, reload of the group) or a cancellation (the
    /// service group tearing down after another service failed). Loops that sleep must check both: a cancelled
    /// sleep returns at once, so a loop that only watches for graceful shutdown would spin.
    static var isStopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }
}

/// Sleeps until `date`, waking at least every `interval` so that a stop — or `keepWaiting` turning false (a reload)
/// — ends the wait early.
func sleepUntil(_ date: Date, checkingEvery interval: Duration, while keepWaiting: () -> Bool = { true }) async {
    let cap = Double(interval.components.seconds) * 1000
    while !Task.isStopping && keepWaiting() && Date() < date {
        let wait = Duration.milliseconds(Int64(min(cap, max(10, date.timeIntervalSinceNow * 1000))))
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
    }
}
