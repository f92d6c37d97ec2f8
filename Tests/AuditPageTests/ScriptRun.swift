import Foundation

/// Runs a helper script to completion and captures its output, awaiting its exit (no polling, no blocking).
struct ScriptRun: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Why a script could not be run.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `python3 script` with `environment` added to this process's environment.
    static func python(_ script: String, environment: [String: String]) async throws -> ScriptRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = NSTemporaryDirectory() + "audit-script-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: output + ".out", contents: nil),
            FileManager.default.createFile(atPath: output + ".err", contents: nil)
        else { throw Failure(description: "cannot create output files under \(NSTemporaryDirectory())") }
        defer {
            try? FileManager.default.removeItem(atPath: output + ".out")
            try? FileManager.default.removeItem(atPath: output + ".err")
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output + ".err"))
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        process.terminationHandler = { process in
            exited.yield(process.terminationStatus)
            exited.finish()
        }
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start python3: \(error)")
        }
        var iterator = exits.makeAsyncIterator()
        let status = await iterator.next() ?? process.terminationStatus
        return ScriptRun(
            status: status,
            stdout: (try? String(contentsOfFile: output + ".out", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? ""
        )
    }
}
