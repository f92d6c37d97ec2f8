import Fanout
import Foundation
import Synchronization

/// `send`'s progress on a terminal: `12/20 groups done (sent 11 · dead 1) · 14s`, redrawn in place on stderr each
/// second and after each recorded batch, so a slow bot or a multi-part notice never looks hung. Silent when stderr
/// is not a terminal (a pipe, a log, a test).
final class SendProgress: Sendable {
    /// What the line shows.
    struct Counts: Sendable {
        var total: Int
        var alreadyDone: Int
        var progress = DispatchProgress()
        var started = ContinuousClock.now
        var ended = false

        /// `12/20 groups done (sent 11 · retry 2 · dead 1) · 14s`.
        var line: String {
            let done = min(total, alreadyDone + progress.sent + progress.accepted + progress.dead + progress.inDoubt)
            var line = "\(done)/\(total) \(total == 1 ? "group" : "groups") done (sent \(progress.sent)"
            if progress.retried > 0 { line += " · retry \(progress.retried)" }
            if progress.dead > 0 { line += " · dead \(progress.dead)" }
            if progress.inDoubt > 0 { line += " · in_doubt \(progress.inDoubt)" }
            return line + ") · \((ContinuousClock.now - started).components.seconds)s"
        }
    }

    /// The counts, shared with the ticker.
    private final class Shared: Sendable {
        let mutex: Mutex<Counts>
        init(_ counts: Counts) { mutex = Mutex(counts) }
        func withLock<T>(_ body: (inout Counts) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    private let counts: Shared
    private let ticker: Task<Void, Never>?

    /// Starts the line for `total` deliveries, `alreadyDone` of them settled by an earlier run.
    init(total: Int, alreadyDone: Int = 0, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        let counts = Shared(Counts(total: total, alreadyDone: alreadyDone))
        self.counts = counts
        guard enabled else {
            ticker = nil
            return
        }
        Self.draw(counts.withLock { $0.line })
        ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                counts.withLock { if !$0.ended { Self.draw($0.line) } }
            }
        }
    }

    /// Records the counts after a batch and redraws.
    func update(_ progress: DispatchProgress) {
        guard ticker != nil else { return }
        counts.withLock {
            $0.progress = progress
            if !$0.ended { Self.draw($0.line) }
        }
    }

    /// Ends the line (a newline), so the summary starts on its own.
    func end() {
        guard let ticker else { return }
        ticker.cancel()
        counts.withLock {
            if !$0.ended { FileHandle.standardError.write(Data("\n".utf8)) }
            $0.ended = true
        }
    }

    private static func draw(_ line: String) {
        // Carriage return and erase to the end of the line: the new line may be shorter than the one it replaces.
        FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
    }
}
