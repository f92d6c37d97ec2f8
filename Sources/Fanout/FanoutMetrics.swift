import Metrics
import Synchronization

/// The dispatcher's metrics (swift-metrics; `gridcast serve` exports them as Prometheus text on `/metrics`).
/// They are recorded only once ``enable()`` was called (after bootstrapping a metrics backend): a one-shot
/// `gridcast send` pays nothing for them.
///
/// Each metric object is made once per label and dimension values and then reused: making one goes through the
/// backend's registry (a lock, a lookup and an allocation), which a delivery should not pay for every request.
public enum FanoutMetrics {
    private static let enabled = Atomic<Bool>(false)
    private static let made = Mutex(Instruments())

    /// Starts recording; call after `MetricsSystem.bootstrap`.
    public static func enable() {
        // Objects made before bind to the backend of their time: start afresh with the one bootstrapped now.
        made.withLock { $0 = Instruments() }
        enabled.store(true, ordering: .releasing)
    }

    private static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Requests and their outcomes by platform.
    static func outcome(sink: String, _ outcome: String) {
        guard isEnabled else { return }
        counter("gridcast_deliveries_total", [("sink", sink), ("outcome", outcome)]).increment()
    }

    /// One request's duration, by platform.
    static func request(sink: String, duration: Duration) {
        guard isEnabled else { return }
        timer("gridcast_request_duration_seconds", [("sink", sink)]).record(duration: duration)
    }

    /// One ledger transaction's duration (claim or outcome batch).
    static func commit(_ kind: String, duration: Duration) {
        guard isEnabled else { return }
        timer("gridcast_ledger_commit_seconds", [("kind", kind)]).record(duration: duration)
    }

    /// Requests in flight, and claims not in flight: queued for a free slot, or finished and still claimed until
    /// the next settle commits their outcome.
    static func window(inFlight: Int, waiting: Int) {
        guard isEnabled else { return }
        gauge("gridcast_requests_in_flight").record(inFlight)
        gauge("gridcast_claimed_waiting").record(waiting)
    }

    /// The counter for `label` and these dimensions, made on first use.
    static func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Key(label, dimensions)
        return made.withLock { instruments in
            if let counter = instruments.counters[key] { return counter }
            let counter = Counter(label: label, dimensions: dimensions)
            instruments.counters[key] = counter
            return counter
        }
    }

    /// The timer for `label` and these dimensions, made on first use.
    static func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        let key = Key(label, dimensions)
        return made.withLock { instruments in
            if let timer = instruments.timers[key] { return timer }
            let timer = Metrics.Timer(label: label, dimensions: dimensions)
            instruments.timers[key] = timer
            return timer
        }
    }

    /// The gauge for `label` (no dimensions), made on first use.
    static func gauge(_ label: String) -> Gauge {
        let key = Key(label, [])
        return made.withLock { instruments in
            if let gauge = instruments.gauges[key] { return gauge }
            let gauge = Gauge(label: label)
            instruments.gauges[key] = gauge
            return gauge
        }
    }

    /// A metric's identity: its label and its dimensions, in order.
    struct Key: Hashable {
        let label: String
        let dimensions: [String]

        init(_ label: String, _ dimensions: [(String, String)]) {
            self.label = label
            self.dimensions = dimensions.flatMap { [$0.0, $0.1] }
        }
    }

    /// Every metric object made since ``enable()``.
    struct Instruments: Sendable {
        var counters: [Key: Counter] = [:]
        var timers: [Key: Metrics.Timer] = [:]
        var gauges: [Key: Gauge] = [:]
    }
}

extension Metrics.Timer {
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
