import Foundation
import GRDB
import GridcastCore

/// The event chain's head and its verification (``LedgerAudit``).
extension SQLiteLedgerStore {
    public func head() async throws -> LedgerCheckpoint {
        try await read { db in
            let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            return LedgerCheckpoint(seq: row?["seq"] ?? 0, hash: row?["hash"] ?? LedgerEvent.genesisHash)
        }
    }

    public func verify(checkpoint: LedgerCheckpoint?, progress: VerifyObserver?) async throws -> LedgerVerification {
        let verifier = LedgerVerifier(migrations: Self.migrator.migrations)
        return try await read { db in try verifier.verify(db, checkpoint: checkpoint, progress: progress) }
    }

    /// The fast check alone (``ChainDigest``): the head when it finds the ledger consistent, nil when `verify` goes
    /// on to the replay.
    func digestHead(checkpoint: LedgerCheckpoint?) async throws -> LedgerCheckpoint? {
        try await read { db in try LedgerVerifier.digest(db, checkpoint: checkpoint) }
    }

    /// Verifies the ledger file at `path` without changing it: opened read-only, no migrations run (an audited
    /// copy stays as it was handed over, and a tampered migration table can't make gridcast rebuild tables).
    public static func verify(
        path: String, checkpoint: LedgerCheckpoint?, progress: VerifyObserver? = nil
    ) throws -> LedgerVerification {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "gridcast-ledger-verify"
        let verifier = LedgerVerifier(migrations: migrator.migrations)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                guard try db.tableExists("events") else {
                    return .failed("\(path) has no event log yet: open it once with this gridcast version to add it")
                }
                return try verifier.verify(db, checkpoint: checkpoint, progress: progress)
            }
        } catch let error as DatabaseError where LedgerVerifier.isAccessProblem(error) {
            throw LedgerError.unreadable("cannot open \(path): \(describe(error))")
        } catch {
            // Read, but not as a ledger: not a database, corrupt, or missing what the schema check let through.
            return .failed("\(path) cannot be read as a ledger: \(describe(error))")
        }
    }

    /// The writer connection's `journal_mode` and `synchronous` (2 = FULL), as SQLite reports them.
    func durability() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.writeWithoutTransaction { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            )
        }
    }
}
