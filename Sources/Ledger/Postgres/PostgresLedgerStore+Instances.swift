import Foundation
import PostgresNIO

/// Instances sharing the database (``InstanceLedger``): a row each, its beat on the database's clock. Lease expiry
/// (``DispatchLedger/expireLeases(now:policy:isOwnerAlive:)``) ends the claims of an instance whose beat is older
/// than the timeout at once.
extension PostgresLedgerStore {
    public var heartbeatInterval: Duration? { instanceTimeout / 6 }

    public func heartbeat(_ instance: InstanceIdentity) async throws {
        // Within one interval: a beat that can't be written soon says the ledger is unreachable (`/healthz`).
        try await write(within: instanceTimeout / 6) { tx in
            try await tx.rows(
                """
                INSERT INTO instances (owner, host, pid, started_at, heartbeat_at)
                VALUES (\(instance.owner), \(instance.host), \(Int64(instance.pid)),
                    \(instance.startedAt.ledgerMillis), (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL
                """)
        }
    }

    public func stopped(_ instance: InstanceIdentity) async throws {
        try await write { tx in
            try await tx.rows(
                """
                UPDATE instances SET stopped_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
                WHERE owner = \(instance.owner)
                """)
        }
    }

    public func instances() async throws -> [InstanceStatus] {
        let timeout = instanceTimeout.milliseconds
        return try await read { tx in
            let clock = try await PostgresClock.read(tx)
            return try await tx.rows(
                """
                SELECT owner, host, pid, started_at, heartbeat_at, stopped_at,
                    heartbeat_at >= (extract(epoch FROM clock_timestamp()) * 1000)::bigint - \(timeout)
                        AND stopped_at IS NULL
                FROM instances ORDER BY heartbeat_at DESC
                """
            ).map { row in
                let (owner, host, pid, started, beat, stopped, alive) = try row.decode(
                    (String, String, Int64, Int64, Int64, Int64?, Bool).self)
                return InstanceStatus(
                    identity: InstanceIdentity(
                        owner: owner, host: host, pid: Int(pid), startedAt: Date(ledgerMillis: started)),
                    lastBeat: clock.local(beat), alive: alive, stoppedAt: stopped.map { clock.local($0) })
            }
        }
    }

    /// The owners of claims whose instance stopped beating (or stopped), as the database's clock tells, in `tx`.
    static func silentOwners(_ tx: PostgresTransaction, timeout: Duration) async throws -> [String] {
        try await tx.values(
            """
            SELECT owner FROM instances
            WHERE stopped_at IS NOT NULL
                OR heartbeat_at < (extract(epoch FROM clock_timestamp()) * 1000)::bigint - \(timeout.milliseconds)
            """, as: String.self)
    }
}
