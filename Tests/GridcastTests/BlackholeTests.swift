import Emulator
import Foundation
import Glibc
import GridcastTesting
import Testing
import Transport

@Suite("The blackhole emulator: the benchmark receiver answers like the platform and keeps nothing")
struct BlackholeTests {
    static let wecomBody = Array(#"{"msgtype":"text","text":{"content":"反诈提醒"}}"#.utf8)

    func post(_ path: String, port: Int, headers: [HTTPHeader] = []) -> HTTPRequest {
        HTTPRequest(
            url: "http://127.0.0.1:\(port)\(path)",
            headers: [HTTPHeader("Content-Type", "application/json")] + headers, body: Self.wecomBody,
            timeout: .seconds(5)
        )
    }

    func withBlackhole(
        delay: Duration = .zero, _ body: (EmulatorServer, CurlTransport) async throws -> Void
    ) async throws {
        try await withTransport(to: try await EmulatorServer.start(responseDelay: delay, blackhole: true), body)
    }

    @Test func eachPathGetsItsPlatformsAnswerEvenWhenOneConnectionAlternatesBetweenThem() async throws {
        try await withBlackhole { server, transport in
            // One transport, one host: the requests share a connection, so a remembered answer must follow the path.
            let expected: [(path: String, status: Int, body: String)] = [
                ("/cgi-bin/webhook/send?key=a", 200, #"{"errcode":0,"errmsg":"ok"}"#),
                ("/cgi-bin/webhook/send?key=b", 200, #"{"errcode":0,"errmsg":"ok"}"#),
                ("/services/T1/B1/x", 200, "ok"),
                ("/cgi-bin/webhook/send?key=c", 200, #"{"errcode":0,"errmsg":"ok"}"#),
                // Any other POST is for a generic webhook.
                ("/hooks/anything", 204, ""),
            ]
            for (path, status, body) in expected {
                let response = try await transport.send(post(path, port: server.port)).get()
                #expect(response.status == status, "\(path)")
                #expect(response.bodyText == body, "\(path)")
            }
            let stats = try await transport.send(
                HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/_emulator/stats", timeout: .seconds(5))
            ).get()
            #expect(stats.bodyText.contains(#""requests":5,"accepted":5"#))
            let missing = try await transport.send(
                HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/nowhere", timeout: .seconds(5))
            ).get()
            #expect(missing.status == 404)
            #expect(try await server.requestCount() == 5)
            #expect(try await server.received().isEmpty)
        }
    }

    @Test func aConnectionAskedToCloseIsClosedAfterItsAnswer() async throws {
        try await withBlackhole { server, transport in
            let response = try await transport.send(
                post("/cgi-bin/webhook/send?key=a", port: server.port, headers: [HTTPHeader("Connection", "close")])
            ).get()
            #expect(response.status == 200)
            #expect(response.header("connection") == "close")
            let kept = try await transport.send(post("/cgi-bin/webhook/send?key=a", port: server.port)).get()
            #expect(kept.header("connection") == nil)
        }
    }

    @Test func aDelayHoldsEveryAnswerBack() async throws {
        try await withBlackhole(delay: .milliseconds(300)) { server, transport in
            let started = ContinuousClock.now
            let response = try await transport.send(post("/cgi-bin/webhook/send?key=a", port: server.port)).get()
            #expect(response.status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
        }
    }

    @Test(arguments: [false, true])
    func aRequestThatIsNotHTTPGetsA400AndTheConnectionCloses(blackhole: Bool) async throws {
        let server = try await EmulatorServer.start(blackhole: blackhole)
        let answer = try Self.exchange(port: server.port, "NOT HTTP AT ALL\r\n\r\n")
        try await server.stop()
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(answer.contains("connection: close\r\n"))
    }

    /// Writes `text` on a new loopback connection and reads until the server closes it (5 s at most).
    static func exchange(port: Int, _ text: String) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EBADF) }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array(text.utf8)
        guard write(socket, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(socket, &buffer, buffer.count)
            if count <= 0 { break }
            answer += buffer[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
