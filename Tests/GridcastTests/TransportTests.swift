import Emulator
import Foundation
import Glibc
import GridcastCore
import GridcastTesting
import Synchronization
import Testing
import Transport

@Suite("libcurl transport against a real loopback server")
struct TransportTests {
    static let body = Array(#"{"msgtype":"text","text":{"content":"反诈提醒"}}"#.utf8)

    func request(port: Int, key: String = "k1", timeout: Duration = .seconds(5)) -> HTTPRequest {
        HTTPRequest(
            url: "http://127.0.0.1:\(port)/cgi-bin/webhook/send?key=\(key)",
            headers: [HTTPHeader("Content-Type", "application/json")], body: Self.body, timeout: timeout
        )
    }

    func withServer(
        faults: [String: [FaultPlan.Fault]] = [:],
        _ body: (EmulatorServer, CurlTransport) async throws -> Void
    ) async throws {
        let server = try await EmulatorServer.start(faults: FaultPlan(faults: faults), enforceRateLimits: false)
        try await withTransport(to: server, body)
    }

    @Test func postsAndReadsStatusHeadersAndBody() async throws {
        try await withServer { server, transport in
            let response = try await transport.send(request(port: server.port)).get()
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.bodyText == #"{"errcode":0,"errmsg":"ok"}"#)
            let received = try await server.received()
            #expect(received.map(\.text) == ["反诈提醒"])
        }
    }

    @Test func headerFieldsKeepTheFinalResponsesFieldsWithinTheirLimits() {
        var fields = HeaderFields()
        func add(_ line: String) { Array(line.utf8).withUnsafeBytes { fields.append(line: $0) } }
        add("HTTP/1.1 100 Continue\r\n")
        add("Retry-After: 99\r\n")
        add("HTTP/1.1 429 Too Many Requests\r\n")
        add("Retry-After:\t 3 \r\n")
        add("not a field\r\n")
        add("Retry-After-Ms: 5\r\n")
        add("X-Long: " + String(repeating: "v", count: 5000) + "\r\n")
        add("\r\n")
        #expect(fields.value(named: "retry-after") == "3", "the interim response's field is forgotten")
        #expect(fields.value(named: "Retry-After-MS") == "5")
        #expect(fields.value(named: "retry") == nil)
        #expect(fields.value(named: "x-long")?.utf8.count == HeaderFields.valueLimit)
        #expect(fields.count == 3)
        #expect(Set(fields.dictionary.keys) == ["retry-after", "retry-after-ms", "x-long"])
        for index in 0..<200 { add("X-\(index): \(index)") }
        #expect(fields.count == HeaderFields.limit)
        #expect(fields.value(named: "x-199") == nil)
        #expect(HeaderFields(["Retry-After": "2"]) == HeaderFields(["retry-after": "2"]))
    }

    @Test func refusedConnectionIsNotSent() async throws {
        // A port bound and held without listening: connections to it are refused, and no other test's server can
        // take it meanwhile (a port merely closed again may be reused by one running in parallel).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let transport = CurlTransport()
        let result = await transport.send(request(port: port))
        await transport.shutdown()
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .notSent)
        #expect(error.code == 7)
    }

    @Test func timeoutAfterTheRequestWasWrittenIsOutcomeUnknown() async throws {
        try await withServer(faults: ["wecom:k1": [.timeout]]) { server, transport in
            let result = await transport.send(request(port: server.port, timeout: .milliseconds(300)))
            guard case .failure(let error) = result else {
                Issue.record("expected a timeout, got \(result)")
                return
            }
            #expect(error.kind == .outcomeUnknown)
            #expect(error.code == 28)
        }
    }

    @Test func aHungRequestDoesNotHoldBackTheNextOneToTheSameHost() async throws {
        // Plain http is HTTP/1.1: a second connection is opened at once, not after the first request's answer.
        try await withServer(faults: ["wecom:hung": [.timeout]]) { server, transport in
            let hungEnded = Atomic<Bool>(false)
            let hung = Task {
                defer { hungEnded.store(true, ordering: .releasing) }
                // Long enough that the next request is answered first even on a loaded machine.
                return await transport.send(request(port: server.port, key: "hung", timeout: .seconds(8)))
            }
            try await waitUntil { try await server.requestCount() == 1 }
            let answered = await transport.send(request(port: server.port, key: "next", timeout: .seconds(2)))
            #expect(try answered.get().status == 200)
            let hungHadEnded = hungEnded.load(ordering: .acquiring)
            #expect(!hungHadEnded, "answered while the hung request was still waiting")
            guard case .failure(let error) = await hung.value else {
                Issue.record("the hung request was answered")
                return
            }
            #expect(error.kind == .outcomeUnknown)
        }
    }

    @Test func connectionDroppedAfterTheRequestIsOutcomeUnknown() async throws {
        try await withServer(faults: ["wecom:k1": [.reset]]) { server, transport in
            let result = await transport.send(request(port: server.port))
            guard case .failure(let error) = result else {
                Issue.record("expected a dropped connection, got \(result)")
                return
            }
            #expect(error.kind == .outcomeUnknown)
            let requests = try await server.requestCount()
            #expect(requests == 1)
        }
    }

    /// A kept-alive connection that the server closes after reading the next request: libcurl would send that
    /// request again on a new connection by itself, and the message could be posted twice. The transport refuses
    /// the second start (`CURLOPT_PREREQFUNCTION`), so the server sees the request once and its outcome is unknown.
    @Test func aRequestLostOnAReusedConnectionIsNotResentByLibcurl() async throws {
        let ok = #"{"errcode":0,"errmsg":"ok"}"#
        try await withServer(faults: ["wecom:k1": [.answer(200, ok), .reset]]) { server, transport in
            let first = try await transport.send(request(port: server.port)).get()
            #expect(first.status == 200)
            let result = await transport.send(request(port: server.port))
            guard case .failure(let error) = result else {
                Issue.record("expected the dropped request to fail, got \(result)")
                return
            }
            #expect(error.kind == .outcomeUnknown)
            let requests = try await server.requestCount()
            #expect(requests == 2, "the dropped request was sent once, not again")
        }
    }

    @Test func responseBodyIsCappedAt64KiB() async throws {
        try await withServer(faults: ["wecom:k1": [.oversize]]) { server, transport in
            let response = try await transport.send(request(port: server.port)).get()
            #expect(response.status == 200)
            #expect(response.body.count == HTTPResponse.bodyLimit)
            #expect(response.truncated)
        }
    }

    @Test func redirectsAreNeverFollowed() async throws {
        try await withServer(faults: ["wecom:k1": [.status(302)]]) { server, transport in
            let response = try await transport.send(request(port: server.port)).get()
            #expect(response.status == 302)
            let requests = try await server.requestCount()
            #expect(requests == 1)
        }
    }

    @Test(arguments: [
        "ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/", "dict://127.0.0.1:11211/stat",
        "scp://127.0.0.1/x", "telnet://127.0.0.1:23", "ldap://127.0.0.1/",
    ])
    func onlyHTTPAndHTTPSAreAllowed(url: String) async throws {
        let transport = CurlTransport()
        let result = await transport.send(HTTPRequest(url: url, body: Self.body, timeout: .seconds(2)))
        await transport.shutdown()
        guard case .failure(let error) = result else {
            Issue.record("expected a refusal, got \(result)")
            return
        }
        #expect(error.kind == .notSent)
        #expect(error.code == 1)  // CURLE_UNSUPPORTED_PROTOCOL
    }

    @Test(arguments: [
        ("http://127.0.0.1:8641/x", true), ("http://127.254.0.9/x", true), ("http://localhost/x", true),
        ("http://[::1]/x", true), ("http://127.0.0.1.nip.io/x", false), ("http://1127.0.0.1/x", false),
        ("http://128.0.0.1/x", false), ("http://127.0.0.999/x", false), ("http://127.0..1/x", false),
        ("http://127.0.0.1x/x", false), ("http://10.0.0.1/x", false),
    ])
    func loopbackIsLocalhostTheIPv6LoopbackOr127Slash8(url: String, loopback: Bool) {
        #expect((WebhookAddress(url)?.isLoopback ?? false) == loopback, "\(url)")
    }

    @Test func queryValuesAreDecodedAndTheFirstOfARepeatedNameWins() throws {
        let address = try #require(WebhookAddress("https://h.example/p?%6Bey=a%2Bb+c&key=second&flag&empty="))
        #expect(address.queryValue(named: "key") == "a+b c")
        #expect(address.queryValue(named: "flag") == "")
        #expect(address.queryValue(named: "empty") == "")
        #expect(address.queryValue(named: "missing") == nil)
        #expect(address.query == ["key": "a+b c", "flag": "", "empty": ""])
    }

    @Test func tlsVerificationFailsClosed() async throws {
        // A plain-HTTP server spoken to over https:// fails the handshake: nothing was sent.
        try await withServer { server, transport in
            let result = await transport.send(
                HTTPRequest(url: "https://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=k1", body: Self.body)
            )
            guard case .failure(let error) = result else {
                Issue.record("expected a TLS failure, got \(result)")
                return
            }
            #expect(error.kind == .notSent)
            let received = try await server.received()
            #expect(received.isEmpty)
        }
    }

    @Test func manyTransfersAtOnceAllComplete() async throws {
        try await withServer { server, transport in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<500 {
                    group.addTask {
                        try await transport.send(request(port: server.port, key: "k\(index)")).get().status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 500)
            #expect(statuses.allSatisfy { $0 == 200 })
            let received = try await server.received()
            #expect(received.count == 500)
        }
    }

    @Test func shutdownLetsInFlightRequestsFinish() async throws {
        let server = try await EmulatorServer.start(responseDelay: .milliseconds(200))
        let transport = CurlTransport()
        async let pending = transport.send(request(port: server.port))
        try await waitUntil { try await server.requestCount() == 1 }
        await transport.shutdown()
        let response = try await pending.get()
        #expect(response.status == 200)
        let late = await transport.send(request(port: server.port))
        guard case .failure(let error) = late else {
            Issue.record("a stopped transport must refuse new requests")
            return
        }
        #expect(error.kind == .notSent)
        try await server.stop()
    }
}
