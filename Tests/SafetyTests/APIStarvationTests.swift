import Emulator
import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

/// The API can't starve the daemon: connections that never finish a request are closed, the open connections are
/// capped below the descriptors the process has, the soft descriptor limit is raised to the hard one, and a
/// delivery due while descriptors are short is retried, never given up.
@Suite("API starvation: half-open requests, too many connections, too few descriptors", .serialized)
struct APIStarvationTests {
    static let token = "starve-token-0123456789abcdef"

    /// A daemon with the API on, its config in `directory`, started through `/bin/sh` so that `ulimit` can lower its
    /// descriptor limits first.
    static func daemon(
        in directory: TemporaryDirectory, emulatorPort: Int, groups: Int, apiPort: Int, ulimit: String? = nil
    ) throws -> WatchedProcess {
        let config = try directory.write(
            "starve.yaml",
            SafetyConfig.yaml(
                groups: TestGroups.wecom(groups, port: emulatorPort), ledger: directory.file("ledger.sqlite"),
                extra: SafetyConfig.api(port: apiPort, token: token))
        )
        let command = (ulimit.map { "ulimit \($0) && " } ?? "") + "exec \"$0\" serve --config \"$1\""
        return try WatchedProcess.program("/bin/sh", ["-c", command, GridcastProcess.executable, config])
    }

    @Test("connections that never complete a request are closed by the server")
    func halfOpenRequestsAreClosed() async throws {
        let directory = try TemporaryDirectory("starve-halfopen")
        defer { directory.remove() }
        let apiPort = try unusedLoopbackPort()
        let daemon = try Self.daemon(in: directory, emulatorPort: 9, groups: 1, apiPort: apiPort)
        let api = APIClient(port: apiPort, token: Self.token)
        try await api.waitUntilServing()

        var connections: [RawConnection] = []
        for index in 0..<60 {
            let connection = try RawConnection(port: apiPort)
            switch index % 3 {
            case 0: break  // connects and says nothing
            case 1: connection.send("POST /v1/notices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor")  // half a header
            default:  // a whole head, a tenth of the body
                connection.send(
                    "POST /v1/notices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"to\": \"al")
            }
            connections.append(connection)
        }
        // Two that keep trickling: a header byte and a body byte at a time, never finishing.
        let headerTrickle = try RawConnection(port: apiPort)
        let bodyTrickle = try RawConnection(port: apiPort)
        bodyTrickle.send("POST /v1/notices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n")
        let trickling = Task {
            while !Task.isCancelled && !(headerTrickle.isClosedByPeer && bodyTrickle.isClosedByPeer) {
                headerTrickle.send("X")
                bodyTrickle.send("x")
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        defer { trickling.cancel() }
        connections += [headerTrickle, bodyTrickle]

        try await waitUntil(timeout: .seconds(120)) { connections.allSatisfy(\.isClosedByPeer) }
        #expect(daemon.stderr.contains("api: closed a connection"), "\(daemon.stderr.suffix(2000))")
        // And the API still serves.
        #expect(await api.status("GET", "/healthz") == 200)

        await api.shutdown()
        #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
        daemon.discardOutput()
    }

    @Test("the soft descriptor limit is raised to the hard limit at start")
    func softLimitIsRaised() async throws {
        let directory = try TemporaryDirectory("starve-rlimit")
        defer { directory.remove() }
        let apiPort = try unusedLoopbackPort()
        let daemon = try Self.daemon(
            in: directory, emulatorPort: 9, groups: 1, apiPort: apiPort, ulimit: "-Sn 200")
        let api = APIClient(port: apiPort, token: Self.token)
        try await api.waitUntilServing()
        let limits = try String(contentsOfFile: "/proc/\(daemon.pid)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[0] == numbers[1] && numbers[0] > 200, "\(line)")
        await api.shutdown()
        #expect(await daemon.stop() == 0)
        daemon.discardOutput()
    }

    @Test("held connections beyond the descriptor limit don't make deliveries dead")
    func deliveriesSurviveConnectionFlood() async throws {
        let directory = try TemporaryDirectory("starve-flood")
        defer { directory.remove() }
        let groups = 20
        let emulator = try await EmulatorServer.start(
            groups: TestGroups.wecom(groups, port: 0), enforceRateLimits: false)
        let apiPort = try unusedLoopbackPort()
        let daemon = try Self.daemon(
            in: directory, emulatorPort: emulator.port, groups: groups, apiPort: apiPort, ulimit: "-n 256")
        let api = APIClient(port: apiPort, token: Self.token)
        try await api.waitUntilServing()
        await api.shutdown()

        // More connections than the daemon has descriptors, each with half a request, all held open.
        var connections: [RawConnection] = []
        for _ in 0..<300 {
            let connection = try RawConnection(port: apiPort)
            connection.send("GET /healthz HTTP/1.1\r\nHo")
            connections.append(connection)
        }
        // A notice planned meanwhile (by another process on the ledger, as `gridcast send` or a second daemon
        // would): the daemon's dispatcher must deliver it.
        let store = try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        let config = TestGroups.config(
            TestGroups.wecom(groups, port: emulator.port), ledger: directory.file("ledger.sqlite"))
        _ = try await NoticeIntake(config: config, sinks: .standard, store: store).submit(
            .init(id: "starved", title: "", text: "不转账", to: "all", urgent: true), origin: "test", now: Date())
        try await waitUntil(timeout: .seconds(120)) {
            let counts = try await store.stateCounts(noticeID: "starved")
            return (counts[.sent] ?? 0) + (counts[.dead] ?? 0) + (counts[.inDoubt] ?? 0) == groups
        }
        let counts = try await store.stateCounts(noticeID: "starved")
        #expect(counts[.sent] == groups, "\(counts)\n\(daemon.stderr.suffix(3000))")
        #expect(counts[.dead] == nil, "\(counts)")
        #expect(daemon.isRunning)
        // It said which limit it hit.
        #expect(daemon.stderr.contains("api.max_connections lowered"), "\(daemon.stderr.suffix(3000))")
        #expect(daemon.stderr.contains("api: connection limit reached"), "\(daemon.stderr.suffix(3000))")
        withExtendedLifetime(connections) {}
        connections.removeAll()

        #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
        daemon.discardOutput()
        try await emulator.stop()
    }
}

/// A plain TCP connection to a loopback port, for requests that a well-behaved client would never send.
final class RawConnection: @unchecked Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SafetyFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            close(descriptor)
            throw SafetyFailure("connect() failed: errno \(code)")
        }
    }

    deinit { close(descriptor) }

    /// Writes `text`, ignoring errors (the server may have closed already).
    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes {
            Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
    }

    /// True once the server has closed its end: a read sees the end of the stream or a reset (an answer such as
    /// 408 before the close is read past).
    var isClosedByPeer: Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            if count > 0 { continue }
            if count == 0 { return true }
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
        }
    }
}
