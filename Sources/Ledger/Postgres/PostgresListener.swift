import Foundation
import Logging
import PostgresNIO

/// Relays the other instances' commits to this process's ``LedgerWakeups``: a connection of its own that LISTENs on
/// ``channel`` (LISTEN holds a session, so it is not one of the pool's), reconnecting after any failure. On each
/// (re)connection it signals once, since a notification sent while it was away is lost.
actor PostgresListener {
    /// The channel every plan, firing and retry notifies.
    static let channel = "gridcast_work"

    private let configuration: PostgresConnection.Configuration
    private let wakeups: LedgerWakeups
    private let logger: Logger
    private var task: Task<Void, Never>?

    init(configuration: PostgresConnection.Configuration, wakeups: LedgerWakeups, logger: Logger) {
        self.configuration = configuration
        self.wakeups = wakeups
        self.logger = logger
    }

    /// Starts listening, once.
    func start() {
        guard task == nil else { return }
        let (configuration, wakeups, logger) = (configuration, wakeups, logger)
        task = Task {
            var pause = Duration.milliseconds(200)
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(
                        configuration: configuration, id: 1, logger: logger)
                    defer { Task { try? await connection.close() } }
                    pause = .milliseconds(200)
                    try await connection.listen(on: Self.channel) { notifications in
                        await wakeups.signal()
                        for try await _ in notifications { await wakeups.signal() }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.info("ledger listener reconnecting", metadata: ["error": "\(PostgresFailure(error).words)"])
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }

    /// Stops listening.
    func stop() {
        task?.cancel()
        task = nil
    }
}
