import Ledger
import Testing

/// A ledger store the store-contract tests run against: every test written against `LedgerStore` runs once per
/// kind listed in `allCases`, so a new store starts with all of them to pass (`docs/ledger.md`, "The store
/// contract").
public enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// The embedded SQLite store.
    case sqlite

    /// A handle on the ledger of this kind that lives in `directory`: created empty by the first call, the same
    /// ledger for every later call (another process's view of it).
    public func open(in directory: TemporaryDirectory) throws -> any LedgerStore {
        switch self {
        case .sqlite: try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        }
    }

    public var testDescription: String { rawValue }
}
