import Foundation

/// Runs the built `gridcast` executable, as an operator would, and captures what it printed.
public struct GridcastProcess: Sendable {
    /// What a finished run left.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The `gridcast` binary beside the test bundle (the same build directory).
    public static var executable: String {
        if let override = ProcessInfo.processInfo.environment["GRIDCAST_BIN"] { return override }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("gridcast").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/gridcast").path
    }

    /// Runs `gridcast args…` to completion.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil
    )
        async throws -> Result
    {
        let running = try start(arguments, environment: environment, in: directory)
        return try await running.wait()
    }

    /// Starts `gridcast args…` without waiting.
    public static func start(
        _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil
    )
        throws -> Running
    {
        try launch(executable, arguments, environment: environment, in: directory)
    }

    /// Starts any program without waiting, its output captured in temporary files.
    public static func launch(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil
    )
        throws -> Running
    {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let out = NSTemporaryDirectory() + "gridcast-out-\(UUID().uuidString)"
        let err = out + ".err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        let process = try SpawnedProcess(
            path, arguments, environment: env, in: directory, stdoutPath: out, stderrPath: err
        ) { status in
            exited.yield(status)
            exited.finish()
        }
        return Running(process: process, exits: exits, stdoutPath: out, stderrPath: err)
    }

    /// A started process.
    public final class Running: @unchecked Sendable {
        /// The child process.
        public let process: SpawnedProcess
        let exits: AsyncStream<Int32>
        /// Where its standard output goes, readable while it runs.
        public let stdoutPath: String
        /// Where its standard error goes, readable while it runs.
        public let stderrPath: String

        init(process: SpawnedProcess, exits: AsyncStream<Int32>, stdoutPath: String, stderrPath: String) {
            self.process = process
            self.exits = exits
            self.stdoutPath = stdoutPath
            self.stderrPath = stderrPath
        }

        /// The process id.
        public var pid: Int32 { process.processIdentifier }

        /// Sends `SIGKILL`: no cleanup, no last words.
        public func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
        }

        /// Sends `SIGTERM`: the polite stop a service manager sends.
        public func terminate() {
            Foundation.kill(process.processIdentifier, SIGTERM)
        }

        /// Waits for the process to end and returns its exit status; its output stays where it is.
        public func exitStatus() async -> Int32 {
            var iterator = exits.makeAsyncIterator()
            return await iterator.next() ?? process.terminationStatus
        }

        /// Waits for the process to end, then reads and removes its output.
        public func wait() async throws -> Result {
            let status = await exitStatus()
            defer {
                try? FileManager.default.removeItem(atPath: stdoutPath)
                try? FileManager.default.removeItem(atPath: stderrPath)
            }
            return Result(
                status: status,
                stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            )
        }
    }
}
