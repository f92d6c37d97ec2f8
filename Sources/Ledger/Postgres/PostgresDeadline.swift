import Foundation

/// Runs a store call with a deadline it can't overstay. A task group would wait for its child, and postgres-nio can
/// leave a statement unanswered for ever (one sent on a connection that closed meanwhile ignores cancellation), so
/// the call runs in a task of its own, raced against a timer, and is cancelled and abandoned when the deadline (or
/// the caller's cancellation) comes first.
enum PostgresDeadline {
    static func run<T: Sendable>(
        within limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let (results, deliver) = AsyncStream.makeStream(
            of: Result<T, any Error>.self, bufferingPolicy: .bufferingNewest(2))
        let work = Task {
            do { deliver.yield(.success(try await body())) } catch { deliver.yield(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            deliver.yield(.failure(PostgresFailure.timedOut))
        }
        defer {
            timer.cancel()
            deliver.finish()
        }
        var iterator = results.makeAsyncIterator()
        // Nil: the caller was cancelled.
        guard let first = await iterator.next() else {
            work.cancel()
            throw CancellationError()
        }
        if case .failure = first { work.cancel() }
        return try first.get()
    }
}
