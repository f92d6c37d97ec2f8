/// Waits until `condition` holds, checking every few milliseconds, or fails after `timeout`.
/// For conditions that live in another process or server, where there is nothing to await directly.
public func waitUntil(
    timeout: Duration = .seconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimeout() }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A condition did not become true in time.
public struct WaitTimeout: Error, CustomStringConvertible {
    public var description: String { "condition not met before the timeout" }
}
