import HummingbirdCore
import Logging
import Synchronization

/// The API's open connections, counted by ``ConnectionCap`` and read by every connection's
/// ``RequestDeadlineHandler``.
final class OpenConnections: Sendable {
    /// The cap (`api.max_connections`).
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// Connections open now.
    var now: Int { count.load(ordering: .relaxed) }

    /// More than half the cap is in use: answers close their connections rather than keep them alive idle, so
    /// that waiting clients get the slots.
    var isCrowded: Bool { now > limit / 2 }

    func opened() -> Int { count.add(1, ordering: .relaxed).newValue }
    func closed() -> Int { count.subtract(1, ordering: .relaxed).newValue }
}

/// The API's cap on open connections (`api.max_connections`), as Hummingbird's accept gate: at the cap the server
/// stops accepting, so further connections wait in the kernel's listen queue without taking a descriptor of the
/// daemon's, and are accepted as open ones close. Logs when the cap is reached, once per burst.
struct ConnectionCap: AvailableConnectionsDelegate {
    let connections: OpenConnections
    let logger: Logger
    private var atCap = false
    private var limit: Int { connections.limit }

    init(connections: OpenConnections, logger: Logger) {
        self.connections = connections
        self.logger = logger
    }

    mutating func connectionOpened() {
        let open = connections.opened()
        if open >= limit && !atCap {
            atCap = true
            logger.warning(
                "api: connection limit reached; new connections wait until open ones close",
                metadata: ["max_connections": "\(limit)"])
        }
    }

    mutating func connectionClosed() {
        let open = connections.closed()
        // A burst is over once half the connections are gone: the next time the cap is reached is logged again.
        if atCap && open <= limit / 2 {
            atCap = false
            logger.notice("api: back under the connection limit", metadata: ["open": "\(open)"])
        }
    }

    func isAcceptingNewConnections() -> Bool { connections.now < limit }
}
