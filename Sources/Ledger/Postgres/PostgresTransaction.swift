import Foundation
import Logging
import PostgresNIO

/// One connection inside a store call: each statement checks first that the connection is still open, because
/// postgres-nio leaves a statement sent on a closed connection waiting for ever.
struct PostgresTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs `query` and reads every row it returns.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        guard !connection.isClosed else { throw PostgresFailure.connectionClosed }
        return try await connection.query(query, logger: logger).collect()
    }

    /// Runs `query` and reads its first row.
    func row(_ query: PostgresQuery) async throws -> PostgresRow? {
        try await rows(query).first
    }

    /// Runs `query` and reads the first column of its first row.
    func value<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        guard let cell = try await row(query)?.first, cell.bytes != nil else { return nil }
        return try cell.decode(T.self)
    }

    /// Runs `query` and reads the first column of every row.
    func values<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> [T] {
        try await rows(query).map { try $0.decode(T.self) }
    }
}
