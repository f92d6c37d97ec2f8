import Metrics
import Testing

@testable import Fanout

/// The dispatcher's metric objects are made once per label and dimensions, not once per delivery.
@Suite("FanoutMetrics: one metric object per series")
struct FanoutMetricsTests {
    @Test func theSameSeriesGetsTheSameObject() {
        let sent = FanoutMetrics.counter("gridcast_test_total", [("sink", "wecom"), ("outcome", "sent")])
        #expect(sent === FanoutMetrics.counter("gridcast_test_total", [("sink", "wecom"), ("outcome", "sent")]))
        #expect(sent !== FanoutMetrics.counter("gridcast_test_total", [("sink", "wecom"), ("outcome", "dead")]))
        #expect(sent !== FanoutMetrics.counter("gridcast_test_total", [("sink", "slack"), ("outcome", "sent")]))
        // Dimension names and values are kept apart: ("a", "bc") is not ("ab", "c").
        #expect(
            FanoutMetrics.counter("gridcast_test_total", [("a", "bc")])
                !== FanoutMetrics.counter("gridcast_test_total", [("ab", "c")]))

        let timer = FanoutMetrics.timer("gridcast_test_seconds", [("sink", "wecom")])
        #expect(timer === FanoutMetrics.timer("gridcast_test_seconds", [("sink", "wecom")]))
        #expect(timer !== FanoutMetrics.timer("gridcast_test_seconds", [("sink", "slack")]))

        let gauge = FanoutMetrics.gauge("gridcast_test_in_flight")
        #expect(gauge === FanoutMetrics.gauge("gridcast_test_in_flight"))
        #expect(gauge !== FanoutMetrics.gauge("gridcast_test_waiting"))
    }
}
