import Foundation
import GridcastCore

/// How a command uses the ledger.
public enum LedgerAccess: Sendable {
    /// `serve` and `send`: open it, creating it where there is none, and bring its schema up to date.
    case create
    /// Reports, listings, resolutions: it must exist.
    case existing
    /// `schedule preview`: it must exist, and is opened read-only, as it is (no schema change).
    case readOnly
}

/// Opens the ledger a config's `ledger:` settings name: the one place that knows which store they mean, so the
/// daemon and the commands never name a store type.
public enum LedgerStores {
    /// Where the ledger is, for messages: the file, or the database's URL without its password.
    public static func location(of settings: LedgerSettings) -> String {
        settings.postgres?.redacted ?? settings.path
    }

    /// Whether a ledger exists there (for PostgreSQL: its schema, which asks the server).
    public static func exists(_ settings: LedgerSettings) async -> Bool {
        guard let postgres = settings.postgres else { return FileManager.default.fileExists(atPath: settings.path) }
        return (try? await PostgresLedgerStore.schemaVersion(at: postgres)) != nil
    }

    /// Opens the store for `access`. A shared database that is not reachable yet is asked again for up to
    /// `patience` (the daemon starting with the machine, before its database).
    /// - Throws: ``LedgerError`` when it can't be opened, or (except for ``LedgerAccess/create``) does not exist.
    public static func open(
        _ settings: LedgerSettings, access: LedgerAccess, patience: Duration = .zero
    ) async throws -> any LedgerStore {
        if let postgres = settings.postgres {
            return try await PostgresLedgerStore.open(
                postgres, instanceTimeout: settings.instanceTimeout, creating: access == .create, patience: patience)
        }
        if access != .create && !FileManager.default.fileExists(atPath: settings.path) {
            throw LedgerError.invalid(
                "no ledger at \(location(of: settings)) (gridcast serve or gridcast send creates it)")
        }
        return try openSQLite(settings, access: access)
    }

    /// Verifies the ledger without writing to it: the event chain, every row, the schema and, with a checkpoint,
    /// that the chain still extends it.
    /// - Throws: when the ledger can't be opened or read (nothing was verified then).
    public static func verify(
        _ settings: LedgerSettings, checkpoint: LedgerCheckpoint?, progress: VerifyObserver? = nil
    ) async throws
        -> LedgerVerification
    {
        if let postgres = settings.postgres {
            let store = try await PostgresLedgerStore.open(
                postgres, instanceTimeout: settings.instanceTimeout, creating: false)
            return try await store.verify(checkpoint: checkpoint, progress: progress)
        }
        return try verifySQLite(settings, checkpoint: checkpoint, progress: progress)
    }
}
