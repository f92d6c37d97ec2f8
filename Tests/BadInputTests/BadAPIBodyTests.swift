import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Logging
import Prometheus
import ServiceLifecycle
import Sinks
import Testing
import Transport

@testable import Daemon

/// Every bad `POST /v1/notices` body of the corpus, sent to the real API (Hummingbird on a loopback port, a real
/// SQLite ledger) with the libcurl transport: the status, the `field` of the JSON answer and its message, and
/// nothing planned.
@Suite("Bad input: POST /v1/notices bodies are refused naming the field")
struct BadAPIBodyTests {
    static let token = "bad-input-token-5b2e8c1d7a"
    /// 2026-11-28 10:00 in Asia/Shanghai.
    static let now = Date(timeIntervalSince1970: 1_795_831_200)

    /// The error answer's body.
    struct Answer: Decodable {
        var error: String
        var field: String?
    }

    /// Posts `body` to a fresh API over three WeCom groups (never contacted) and returns the answer and the ledger.
    func post(_ body: [UInt8]) async throws -> (status: Int, answer: Answer, planned: Bool) {
        let directory = try TemporaryDirectory("bad-api")
        defer { directory.remove() }
        let config = TestGroups.config(TestGroups.wecom(3, port: 9), ledger: directory.file("ledger.sqlite"))
        let store = try SQLiteLedgerStore(path: config.ledger.path)
        let intake = NoticeIntake(config: config, sinks: SinkRegistry.standard, store: store)
        let logger = Logger(label: "gridcast.bad-input")
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let app = makeAPIApplication(
            settings: APISettings(host: "127.0.0.1", port: 0, token: Self.token),
            intake: intake, store: store, timeZone: config.timeZone, registry: PrometheusCollectorRegistry(),
            logger: logger, now: { Self.now }, onServerRunning: { announce.yield($0) }
        )
        let server = ServiceGroup(services: [app], logger: logger)
        let transport = CurlTransport(configuration: .init(maxConnections: 1))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { announce.finish() }
                try await server.run()
            }
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
            let response: HTTPResponse
            do {
                response = try await transport.send(
                    .init(
                        method: "POST", url: "http://127.0.0.1:\(port)/v1/notices",
                        headers: [
                            HTTPHeader("Authorization", "Bearer \(Self.token)"),
                            HTTPHeader("Content-Type", "application/json"),
                        ],
                        body: body
                    )
                ).get()
            } catch {
                try? await stop()
                throw error
            }
            try await stop()
            let answer = try JSONDecoder().decode(Answer.self, from: Data(response.body))
            let planned = try await !store.pending(noticeID: nil, now: Self.now).isSettled
            return (response.status, answer, planned)
        }
    }

    @Test("a bad body gets its status and names its field", arguments: Corpus.cases("api"))
    func body(_ item: Corpus.Case) async throws {
        let (status, answer, planned) = try await post(item.bytes)
        #expect(status == item.status)
        #expect(answer.field == item.field)
        #expect(answer.error.contains(item.message), "\(answer.error)")
        if let group = item.group {
            #expect(answer.error.contains(group))
        }
        #expect(!planned, "a refused body must plan nothing")
        // A refusal never echoes the token or a group's URL.
        #expect(!answer.error.contains(Self.token))
        #expect(!answer.error.contains("127.0.0.1"))
    }

    @Test("the pure decoder agrees with the API", arguments: Corpus.cases("api").filter { $0.status != 413 })
    func decoder(_ item: Corpus.Case) {
        do {
            _ = try NoticeBody(json: item.bytes)
            // Accepted bodies are refused later, by the intake (selector, text, id, parts).
            #expect(item.status == 422 && ["to", "text", "id"].contains(item.field))
        } catch {
            #expect(error.kind == (item.status == 400 ? .malformed : .invalid))
            #expect(error.field == item.field)
        }
    }
}
