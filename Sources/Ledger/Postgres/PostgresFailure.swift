import Foundation
import PostgresNIO

/// What a PostgreSQL error means to the ledger: retry it, or report it. Its words never include the SQL or its
/// values (postgres-nio's reflected errors hold both), only the error's code and SQLSTATE.
struct PostgresFailure: Error, Sendable {
    /// SQLSTATE, when the server answered.
    let sqlState: String?
    /// The server's message, when it answered.
    let message: String?
    /// The client-side kind of failure (postgres-nio's code, or the error's type).
    let kind: String
    /// Whether trying the same call again may succeed.
    let isRetryable: Bool
    /// What failed below postgres-nio (a refused connection, a certificate), by its type and words.
    var underlying: String?

    /// A statement not sent because its connection had already closed.
    static let connectionClosed = PostgresFailure(
        sqlState: nil, message: nil, kind: "connection closed", isRetryable: true)

    /// A call that took longer than the store's deadline.
    static let timedOut = PostgresFailure(
        sqlState: nil, message: nil, kind: "no answer within the deadline", isRetryable: false)

    private init(sqlState: String?, message: String?, kind: String, isRetryable: Bool) {
        self.sqlState = sqlState
        self.message = message
        self.kind = kind
        self.isRetryable = isRetryable
    }

    /// Classifies `error` from postgres-nio or its connection pool.
    init(_ error: any Error) {
        if let failure = error as? PostgresFailure {
            self = failure
            return
        }
        if let error = error as? PSQLError {
            let state = error.serverInfo?[.sqlState]
            let code = error.code
            let connection: Set<PSQLError.Code> = [
                .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed,
            ]
            self.init(
                sqlState: state, message: error.serverInfo?[.message], kind: "\(code)",
                isRetryable: state.map(Self.isRetryable(sqlState:)) ?? connection.contains(code))
            underlying = error.underlying.map { String(describing: $0) }
            return
        }
        if error is CancellationError {
            self.init(sqlState: nil, message: nil, kind: "cancelled", isRetryable: false)
            return
        }
        // The pool's own errors (its circuit breaker, a connect timeout) and NIO's: the database is unreachable.
        self.init(sqlState: nil, message: nil, kind: String(describing: type(of: error)), isRetryable: true)
    }

    /// Whether the server could not be reached at all (refused, no route, a timeout while connecting): the
    /// database may simply not be up yet.
    var isUnreachable: Bool {
        sqlState == nil && (kind == "\(PSQLError.Code.connectionError)" || kind == PostgresFailure.timedOut.kind)
    }

    /// Serialization failures, deadlocks, lock timeouts, the server shutting down or not ready, lost connections.
    static func isRetryable(sqlState: String) -> Bool {
        ["40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"].contains(sqlState) || sqlState.hasPrefix("08")
    }

    /// The failure as the ledger reports it.
    var ledgerError: LedgerError { .storage(words) }

    /// The failure in words: its kind, SQLSTATE and the server's message.
    var words: String {
        var words = "PostgreSQL \(kind)"
        if let sqlState { words += " (SQLSTATE \(sqlState))" }
        if let message { words += ": \(message)" }
        if let underlying { words += " (\(underlying))" }
        return words
    }
}
