import Logging
import Synchronization

/// Logs a limit being hit once per burst: the first hit logs a warning; hits within `quiet` of the one before are
/// only counted, and the count goes with the first line of the next burst.
public final class BurstLog: Sendable {
    private let logger: Logger
    private let message: Logger.Message
    private let quiet: Duration
    private let state = Mutex<(last: ContinuousClock.Instant?, unlogged: Int)>((nil, 0))

    /// Logs `message` with `logger`, once per burst of hits no more than `quiet` apart.
    public init(logger: Logger, message: Logger.Message, quiet: Duration = .seconds(10)) {
        self.logger = logger
        self.message = message
        self.quiet = quiet
    }

    /// Counts one hit, and logs it when it starts a burst.
    public func hit(_ metadata: Logger.Metadata = [:]) {
        let now = ContinuousClock.now
        let unlogged: Int? = state.withLock { state in
            defer { state.last = now }
            if let last = state.last, now - last < quiet {
                state.unlogged += 1
                return nil
            }
            defer { state.unlogged = 0 }
            return state.unlogged
        }
        guard let unlogged else { return }
        logger.warning(message, metadata: metadata.merging(["earlier_unlogged": "\(unlogged)"]) { $1 })
    }
}

extension BurstLog {
    /// Requests not sent because the process had no file descriptor left (`LimitNOFILE`).
    public static let outOfDescriptors = BurstLog(
        logger: Logger(label: "gridcast.dispatch"),
        message: "out of file descriptors: requests not sent, retried without spending an attempt (raise LimitNOFILE)")
}
