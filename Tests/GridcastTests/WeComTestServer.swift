import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Transport

/// One request the WeCom test server read.
struct ReceivedRequest: Sendable {
    /// `GET`, `POST`.
    var method: String
    /// The path, `/cgi-bin/gettoken`.
    var path: String
    /// The query parameters, percent-decoded.
    var query: [String: String]
    /// The header fields, by lowercased name.
    var headers: [String: String]
    /// The body.
    var body: [UInt8]
    /// How many requests to the same path came before this one.
    var ordinal: Int

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

/// What the server answers a request: HTTP status and JSON text.
typealias WeComScript = @Sendable (ReceivedRequest) async -> (status: Int, json: String)

/// The requests read so far.
actor RequestLog {
    private(set) var requests: [ReceivedRequest] = []

    /// Records `request` with its ordinal among requests to the same path.
    func record(_ request: ReceivedRequest) -> ReceivedRequest {
        var request = request
        request.ordinal = requests.count(where: { $0.path == request.path })
        requests.append(request)
        return request
    }

    /// The requests to `path`.
    func to(_ path: String) -> [ReceivedRequest] { requests.filter { $0.path == path } }
}

/// A loopback HTTP server answering like WeCom's API as its documentation shows, each answer chosen by a test's
/// script; every request is logged for the test to check.
struct WeComTestServer: Sendable {
    let port: Int
    let log: RequestLog

    /// The base URL to configure an app with.
    var api: String { "http://127.0.0.1:\(port)" }

    /// Starts the server on a free port, runs `body` with it and a libcurl transport, then stops both.
    static func run<Result: Sendable>(
        _ script: @escaping WeComScript, _ body: (WeComTestServer, CurlTransport) async throws -> Result
    ) async throws -> Result {
        let log = RequestLog()
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let bytes = try await request.collectBody(upTo: 32 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let received = await log.record(
                ReceivedRequest(
                    method: request.method.rawValue, path: request.uri.path, query: Self.query(request.uri.query),
                    headers: headers, body: Array(buffer: bytes), ordinal: 0))
            let (status, json) = await script(received)
            return Response(
                status: .init(code: status), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        router.get("**", use: handler)
        router.post("**", use: handler)
        var logger = Logger(label: "gridcast.test.wecom")
        logger.logLevel = .warning
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in announce.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let services = ServiceGroup(services: [app], logger: logger)
        let transport = CurlTransport()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { announce.finish() }
                try await services.run()
            }
            func stop() async throws {
                await transport.shutdown()
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await stop()
                throw CancellationError()
            }
            let result: Result
            do {
                result = try await body(WeComTestServer(port: port, log: log), transport)
            } catch {
                try? await stop()
                throw error
            }
            try await stop()
            return result
        }
    }

    private static func query(_ text: String?) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in (text ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let value = parts.count > 1 ? parts[1] : ""
            parameters[parts[0].removingPercentEncoding ?? parts[0]] = value.removingPercentEncoding ?? value
        }
        return parameters
    }
}

/// A door a request waits at until the test opens it.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Waits until the gate is open.
    func pass() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Opens the gate for every waiting and later request.
    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}
