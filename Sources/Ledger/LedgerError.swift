/// Why the ledger refused or failed an operation.
///
/// A struct over a private code (as swift-service-lifecycle's `ServiceRunnerError`) so new cases don't break callers.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case conflict(noticeID: String)
        case storage(String)
        case invalid(String)
        case unreadable(String)
        case fileChanged(String)
    }

    private let code: Code

    /// A notice with this id exists with other content.
    public static func conflict(noticeID: String) -> LedgerError { LedgerError(code: .conflict(noticeID: noticeID)) }
    /// The database failed (I/O, full disk, corruption, locked too long).
    public static func storage(_ message: String) -> LedgerError { LedgerError(code: .storage(message)) }
    /// The request makes no sense (unknown notice, bad state).
    public static func invalid(_ message: String) -> LedgerError { LedgerError(code: .invalid(message)) }

    /// The ledger can't be opened or read at all (permissions, a read-only directory, a path that is not a file):
    /// nothing about its contents is known.
    public static func unreadable(_ message: String) -> LedgerError { LedgerError(code: .unreadable(message)) }

    /// True for ``unreadable(_:)``.
    public var isUnreadable: Bool {
        if case .unreadable = code { return true }
        return false
    }

    /// The ledger file at the store's path is no longer the file it opened (deleted, or another put in its place):
    /// nothing more may be written to it. Not retryable.
    public static func fileChanged(_ path: String) -> LedgerError { LedgerError(code: .fileChanged(path)) }

    /// False only for errors no retry can mend (``fileChanged(_:)``): a caller stops instead of trying again.
    public var isRetryable: Bool { !isFileChanged }

    /// True for ``fileChanged(_:)``: stop, don't retry.
    public var isFileChanged: Bool {
        if case .fileChanged = code { return true }
        return false
    }

    /// True for ``invalid(_:)``: an answer to the request (say, a delivery no longer in the state it needs), not a
    /// failure of the ledger.
    public var isInvalid: Bool {
        if case .invalid = code { return true }
        return false
    }

    /// True for ``conflict(noticeID:)``.
    public var isConflict: Bool {
        if case .conflict = code { return true }
        return false
    }

    public var description: String {
        switch code {
        case .conflict(let id):
            "notice '\(id)' already exists with different content: the new text needs another id"
        case .storage(let message):
            "ledger storage error: \(message)"
        case .invalid(let message), .unreadable(let message):
            message
        case .fileChanged(let path):
            "the ledger file \(path) was deleted or replaced while in use; nothing more is written to it: "
                + "put the ledger back (or restore it) and start again"
        }
    }
}
