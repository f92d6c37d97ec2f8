import Metrics
import Synchronization

/// The dispatcher's metrics (swift-metrics; `gridcast serve` exports them as Prometheus text on `/metrics`).
/// They are recorded only once ``enable()`` was called (after bootstrapping a metrics backend): a one-shot
/// `gridcast send` pays nothing for them.
public enum FanoutMetrics {
    private static let enabled = Atomic<Bool>(false)

    /// Starts recording; call after `MetricsSystem.bootstrap`.
    public static func enable() {
        enabled.store(true, ordering: .releasing)
    }

    private static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Requests and their outcomes by platform.
    static func outcome(sink: String, _ outcome: String) {
        guard isEnabled else { return }
        Counter(label: "gridcast_deliveries_total", dimensions: [("sink", sink), ("outcome", outcome)]).increment()
    }

    /// One request's duration, by platform.
    static func request(sink: String, duration: Duration) {
        guard isEnabled else { return }
        Metrics.Timer(label: "gridcast_request_duration_seconds", dimensions: [("sink", sink)]).record(
            duration: duration)
    }

    /// One ledger transaction's duration (claim or outcome batch).
    static func commit(_ kind: String, duration: Duration) {
        guard isEnabled else { return }
        Metrics.Timer(label: "gridcast_ledger_commit_seconds", dimensions: [("kind", kind)]).record(duration: duration)
    }

    /// Requests in flight, and claims not in flight: queued for a free slot, or finished and still claimed until
    /// the next settle commits their outcome.
    static func window(inFlight: Int, waiting: Int) {
        guard isEnabled else { return }
        Gauge(label: "gridcast_requests_in_flight").record(inFlight)
        Gauge(label: "gridcast_claimed_waiting").record(waiting)
    }
}

extension Metrics.Timer {
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
