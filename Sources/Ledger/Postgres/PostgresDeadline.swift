import Foundation
import Synchronization

/// Runs a store call with a deadline it can't overstay. A task group would wait for its child, and postgres-nio can
/// leave a statement unanswered for ever (one sent on a connection that closed meanwhile ignores cancellation), so
/// the call runs in a task of its own, cancelled and abandoned when the deadline passes. The one-shot hand-over
/// between the call, its timer and the caller's cancellation is the only shared state.
enum PostgresDeadline {
    /// What the three parties share: whoever finishes first resumes the caller and cancels the others.
    private final class Race<T: Sendable>: Sendable {
        struct State {
            var caller: CheckedContinuation<T, any Error>?
            var tasks: [Task<Void, Never>] = []
        }
        let state = Mutex(State())

        func withLock<R>(_ body: (inout State) -> R) -> R { state.withLock { body(&$0) } }
    }

    static func run<T: Sendable>(
        within limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        @Sendable func finish(_ result: Result<T, any Error>) {
            let (caller, tasks) = race.withLock { state in
                let caller = state.caller
                state.caller = nil
                return (caller, caller == nil ? [] : state.tasks)
            }
            guard let caller else { return }
            for task in tasks { task.cancel() }
            caller.resume(with: result)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                race.withLock { $0.caller = continuation }
                let work = Task {
                    do { finish(.success(try await body())) } catch { finish(.failure(error)) }
                }
                let timer = Task {
                    do {
                        try await Task.sleep(for: limit)
                        finish(.failure(PostgresFailure.timedOut))
                    } catch {}
                }
                let done = race.withLock { state in
                    state.tasks = [work, timer]
                    return state.caller == nil
                }
                if done { timer.cancel() }
            }
        } onCancel: {
            finish(.failure(CancellationError()))
        }
    }
}
