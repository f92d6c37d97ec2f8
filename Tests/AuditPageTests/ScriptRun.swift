import Foundation
import GridcastTesting

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
        let running: GridcastProcess.Running
        do {
            running = try GridcastProcess.launch("/usr/bin/env", ["python3", script], environment: environment)
        } catch {
            throw Failure(description: "cannot start python3: \(error)")
        }
        let result = try await running.wait()
        return ScriptRun(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}
