import Foundation
import PostgresNIO

/// Lease and due times on the database's clock, so instances on machines whose clocks differ agree on when a lease
/// ends. Each transaction that compares times reads the database's clock once and keeps how far it is from this
/// machine's (`skew`); a caller's `now` and lease ends are moved by it on the way in, and lease ends moved back on
/// the way out. A caller that passes a `now` other than the real time (a test moving time) is moved the same way.
struct PostgresClock: Sendable {
    /// The database's clock minus this machine's, in milliseconds.
    let skew: Int64

    /// Reads the database's clock inside `tx`.
    static func read(_ tx: PostgresTransaction) async throws -> PostgresClock {
        let local = Date().ledgerMillis
        let database =
            try await tx.value("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", as: Int64.self)
            ?? local
        // Differences under a second are taken as none: leases have margins of tens of seconds, and a machine's
        // own times then read back exactly as it wrote them.
        let skew = database - local
        return PostgresClock(skew: abs(skew) < tolerance ? 0 : skew)
    }

    /// Differences under this many milliseconds are taken as none.
    static let tolerance: Int64 = 1000

    /// A time of this machine's, on the database's clock.
    func database(_ date: Date) -> Int64 { date.ledgerMillis + skew }

    /// A time on the database's clock, on this machine's.
    func local(_ millis: Int64) -> Date { Date(ledgerMillis: millis - skew) }
}
