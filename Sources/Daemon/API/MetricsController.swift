import Hummingbird
import Prometheus

/// `GET /metrics`: the Prometheus text exposition of the registry the daemon bootstrapped swift-metrics with.
struct MetricsController: Sendable {
    /// The exposition format's media type.
    static let contentType = "text/plain; version=0.0.4"

    let registry: PrometheusCollectorRegistry

    /// Adds the route to `router`.
    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("metrics", use: metrics)
    }

    /// Every registered metric, rendered now.
    @Sendable func metrics(_ request: Request, context: APIRequestContext) -> Response {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4096)
        registry.emit(into: &buffer)
        return Response(
            status: .ok,
            headers: [.contentType: Self.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer))
        )
    }
}
