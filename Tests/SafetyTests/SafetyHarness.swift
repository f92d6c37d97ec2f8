import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Transport

/// A child process (the `gridcast` binary or a helper server) whose output can be read while it runs, and whose
/// CPU time and memory can be read from `/proc`.
final class WatchedProcess: @unchecked Sendable {
    private let running: GridcastProcess.Running
    var process: SpawnedProcess { running.process }
    var stdoutPath: String { running.stdoutPath }
    var stderrPath: String { running.stderrPath }

    private init(executable: String, arguments: [String], environment: [String: String], directory: String?) throws {
        running = try GridcastProcess.launch(executable, arguments, environment: environment, in: directory)
    }

    /// A test that fails (or throws) before stopping its process must not leave a daemon or a helper server running
    /// after it: the last reference going away kills it.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Starts `gridcast args…`.
    static func gridcast(
        _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil
    ) throws -> WatchedProcess {
        try WatchedProcess(
            executable: GridcastProcess.executable, arguments: arguments, environment: environment,
            directory: directory)
    }

    /// Starts any program.
    static func program(_ path: String, _ arguments: [String]) throws -> WatchedProcess {
        try WatchedProcess(executable: path, arguments: arguments, environment: [:], directory: nil)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Everything written to standard output so far.
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    /// Everything written to standard error so far.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the process to end and returns its exit status.
    func wait() async -> Int32 {
        await running.exitStatus()
    }

    /// SIGTERM, then the exit status.
    func stop() async -> Int32 {
        if process.isRunning { signal(SIGTERM) }
        return await wait()
    }

    /// Removes the captured output files.
    func discardOutput() {
        try? FileManager.default.removeItem(atPath: stdoutPath)
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    /// User plus system CPU time so far, in clock ticks (`/proc/PID/stat` fields 14 and 15).
    func cpuTicks() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)" start at field 3 (state); utime is field 14, stime field 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// A `/proc/PID/status` figure in KiB, e.g. `VmHWM` (peak resident set) or `VmRSS`.
    func memoryKiB(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: \.isWhitespace).first ?? "")
        }
        return nil
    }
}

/// Clock ticks per second for ``WatchedProcess/cpuTicks()``.
let clockTicksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

/// A loopback TCP port nobody listens on (bound, read, closed).
func unusedLoopbackPort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw SafetyFailure("socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
            bind(socket, sockaddrPointer, length) == 0 && getsockname(socket, sockaddrPointer, &length) == 0
        }
    }
    guard bound else { throw SafetyFailure("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs a short command to completion; throws with its output when it fails.
@discardableResult
func runTool(_ path: String, _ arguments: [String]) async throws -> String {
    let tool = try WatchedProcess.program(path, arguments)
    defer { tool.discardOutput() }
    let status = await tool.wait()
    guard status == 0 else {
        throw SafetyFailure("\(path) \(arguments.joined(separator: " ")) exited \(status): \(tool.stderr)")
    }
    return tool.stdout
}

/// A test precondition that failed.
struct SafetyFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An HTTP client for the daemon's API.
struct APIClient: Sendable {
    let port: Int
    let token: String
    let transport: CurlTransport

    init(port: Int, token: String, maxConnections: Int = 16) {
        self.port = port
        self.token = token
        transport = CurlTransport(configuration: .init(maxConnections: maxConnections))
    }

    /// What a request says about who sends it.
    enum Credentials: Sendable {
        /// The daemon's token.
        case valid
        /// No `Authorization` header.
        case none
        /// `Authorization: Bearer <token>`.
        case bearer(String)
    }

    /// A request to the API.
    func call(
        _ method: String, _ path: String, as credentials: Credentials = .valid, body: [UInt8] = [],
        timeout: Duration = .seconds(10)
    ) async -> Result<HTTPResponse, TransportError> {
        var headers = [HTTPHeader("Content-Type", "application/json")]
        switch credentials {
        case .valid: headers.append(HTTPHeader("Authorization", "Bearer \(token)"))
        case .none: break
        case .bearer(let other): headers.append(HTTPHeader("Authorization", "Bearer \(other)"))
        }
        return await transport.send(
            HTTPRequest(
                method: method, url: "http://127.0.0.1:\(port)\(path)", headers: headers, body: body,
                timeout: timeout)
        )
    }

    /// `POST /v1/notices` with a JSON text.
    func post(_ json: String, as credentials: Credentials = .valid) async -> Result<HTTPResponse, TransportError> {
        await call("POST", "/v1/notices", as: credentials, body: Array(json.utf8))
    }

    /// The status of a request, 0 when it got no answer.
    func status(_ method: String, _ path: String) async -> Int {
        (try? await call(method, path).get().status) ?? 0
    }

    /// Waits until `/healthz` answers.
    func waitUntilServing(timeout: Duration = .seconds(30)) async throws {
        try await waitUntil(timeout: timeout) { await status("GET", "/healthz") == 200 }
    }

    /// Delivery states of a notice, from `GET /v1/notices/{id}`: state → count.
    func counts(notice: String) async -> [String: Int] {
        guard let response = try? await call("GET", "/v1/notices/\(notice)").get(), response.status == 200,
            let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let counts = object["counts"] as? [String: Int]
        else { return [:] }
        return counts
    }

    func shutdown() async { await transport.shutdown() }
}

/// Stops what a test of several daemons started, whatever state it left them in: the API clients, every daemon
/// still running (resumed, then killed) and the emulator.
func stopAll(_ daemons: [WatchedProcess], _ apis: [APIClient], _ emulator: EmulatorServer) async throws {
    for api in apis { await api.shutdown() }
    for daemon in daemons {
        if daemon.isRunning {
            daemon.signal(SIGCONT)
            daemon.signal(SIGKILL)
        }
        _ = await daemon.wait()
        daemon.discardOutput()
    }
    try await emulator.stop()
}

/// YAML for a config file, with dispatch settings chosen by the test.
enum SafetyConfig {
    static func yaml(
        groups: [Group],
        ledger: String,
        concurrency: Int = 8,
        timeout: String = "5s",
        attempts: Int = 3,
        backoff: String = "20ms",
        maxBackoff: String = "100ms",
        extra: String = ""
    ) -> String {
        TestGroups.yaml(
            groups, ledger: ledger, concurrency: concurrency, timeout: timeout, attempts: attempts, backoff: backoff,
            maxBackoff: maxBackoff, extra: extra)
    }

    /// An `api:` block listening on `port`.
    static func api(port: Int, token: String) -> String {
        "api:\n  listen: 127.0.0.1:\(port)\n  token: \"\(token)\"\n"
    }
}

extension Duration {
    /// Fractional seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
