import Daemon
import Fanout
import Foundation
import GridcastCore
import Ledger
import Logging
import Prometheus
import ServiceLifecycle
import Sinks
import Transport

/// The HTTP API of `gridcast serve`, served for real on a loopback port over a real SQLite ledger, and a libcurl
/// client for it.
public struct APIHarness: Sendable {
    /// The bearer token the API is started with.
    public static let token = "api-token-7f3c9e1b5a2d4c6e8f0a"
    /// The API's clock: 2026-11-28 10:00 in Asia/Shanghai.
    public static let now = Date(timeIntervalSince1970: 1_795_831_200)

    /// The port the API listens on.
    public let port: Int
    /// The client.
    public let transport: CurlTransport
    /// The ledger behind the API.
    public let store: SQLiteLedgerStore
    /// The config the API plans against.
    public let config: GridcastConfig

    /// A request to the API; `token: nil` sends no `Authorization` header.
    public func call(
        _ method: String, _ path: String, token: String? = APIHarness.token, body: [UInt8] = [],
        headers extra: [HTTPHeader] = []
    ) async throws -> HTTPResponse {
        var headers = extra
        if let token { headers.append(HTTPHeader("Authorization", "Bearer \(token)")) }
        if !body.isEmpty { headers.append(HTTPHeader("Content-Type", "application/json")) }
        return try await transport.send(
            .init(method: method, url: "http://127.0.0.1:\(port)\(path)", headers: headers, body: body)
        ).get()
    }

    /// `POST /v1/notices` with a JSON text body.
    public func post(_ json: String, token: String? = APIHarness.token) async throws -> HTTPResponse {
        try await call("POST", "/v1/notices", token: token, body: Array(json.utf8))
    }

    /// Starts the API on port 0 with `groups` (three WeCom groups by default, never contacted) and `wecomApps`, runs
    /// `body`, stops.
    public static func run<Result: Sendable>(
        groups: [GridcastCore.Group] = TestGroups.wecom(3, port: 9),
        wecomApps: [WeComApp] = [],
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        _ body: (APIHarness) async throws -> Result
    ) async throws -> Result {
        let directory = try TemporaryDirectory("api")
        defer { directory.remove() }
        var config = TestGroups.config(groups, ledger: directory.file("ledger.sqlite"))
        config.wecomApps = wecomApps
        let store = try SQLiteLedgerStore(path: config.ledger.path)
        let intake = NoticeIntake(config: config, sinks: SinkRegistry.standard, store: store)
        let logger = Logger(label: "gridcast.api.test")
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let app = makeAPIApplication(
            settings: APISettings(host: "127.0.0.1", port: 0, token: token),
            intake: intake, store: store, timeZone: config.timeZone, registry: registry, logger: logger,
            now: { now }, onServerRunning: { announce.yield($0) }
        )
        let server = ServiceGroup(services: [app], logger: logger)
        let transport = CurlTransport(configuration: .init(maxConnections: 4))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // A server that fails to start ends the stream, so the wait for its port below ends too.
                defer { announce.finish() }
                try await server.run()
            }
            // Stop the way the daemon does on SIGTERM: close the client's connections, then shut down gracefully.
            func stop() async throws {
                await transport.shutdown()
                await server.triggerGracefulShutdown()
                try await group.waitForAll()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await stop()
                throw CancellationError()
            }
            let result: Result
            do {
                result = try await body(APIHarness(port: port, transport: transport, store: store, config: config))
            } catch {
                try? await stop()
                throw error
            }
            try await stop()
            return result
        }
    }
}
