import Metrics

/// The dispatcher's metrics (swift-metrics; `gridcast serve` exports them as Prometheus text on `/metrics`).
/// Without a bootstrapped backend they cost nothing.
enum FanoutMetrics {
    /// Requests and their outcomes by platform.
    static func outcome(sink: String, _ outcome: String) {
        Counter(label: "gridcast_deliveries_total", dimensions: [("sink", sink), ("outcome", outcome)]).increment()
    }

    /// One request's duration, by platform.
    static func request(sink: String, duration: Duration) {
        Metrics.Timer(label: "gridcast_request_duration_seconds", dimensions: [("sink", sink)]).record(
            duration: duration)
    }

    /// One ledger transaction's duration (claim or outcome batch).
    static func commit(_ kind: String, duration: Duration) {
        Metrics.Timer(label: "gridcast_ledger_commit_seconds", dimensions: [("kind", kind)]).record(duration: duration)
    }

    /// Requests in flight, and claimed deliveries waiting for a slot.
    static func window(inFlight: Int, waiting: Int) {
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
