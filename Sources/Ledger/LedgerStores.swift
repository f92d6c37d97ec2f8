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
    /// Where the ledger is, for messages.
    public static func location(of settings: LedgerSettings) -> String { settings.path }

    /// Whether a ledger exists there.
    public static func exists(_ settings: LedgerSettings) -> Bool {
        FileManager.default.fileExists(atPath: settings.path)
    }

    /// Opens the store for `access`.
    /// - Throws: ``LedgerError`` when it can't be opened, or (except for ``LedgerAccess/create``) does not exist.
    public static func open(_ settings: LedgerSettings, access: LedgerAccess) throws -> any LedgerStore {
        if access != .create && !exists(settings) {
            throw LedgerError.invalid(
                "no ledger at \(location(of: settings)) (gridcast serve or gridcast send creates it)")
        }
        return try openSQLite(settings, access: access)
    }

    /// Verifies the ledger without opening it for writing: the event chain, every row, the schema and, with a
    /// checkpoint, that the chain still extends it.
    /// - Throws: when the ledger can't be opened or read (nothing was verified then).
    public static func verify(_ settings: LedgerSettings, checkpoint: LedgerCheckpoint?) throws -> LedgerVerification {
        try verifySQLite(settings, checkpoint: checkpoint)
    }
}
