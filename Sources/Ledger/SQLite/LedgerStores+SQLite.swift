import GridcastCore

/// The SQLite store's part of choosing a store: `ledger.path` names a file.
extension LedgerStores {
    static func openSQLite(_ settings: LedgerSettings, access: LedgerAccess) throws -> any LedgerStore {
        access == .readOnly
            ? try SQLiteLedgerStore(readingOnly: settings.path) : try SQLiteLedgerStore(path: settings.path)
    }

    static func verifySQLite(
        _ settings: LedgerSettings, checkpoint: LedgerCheckpoint?, progress: VerifyObserver?
    ) throws -> LedgerVerification {
        try SQLiteLedgerStore.verify(path: settings.path, checkpoint: checkpoint, progress: progress)
    }
}
