import Foundation
import GridcastCore
import PostgresNIO

extension PostgresLedgerStore {
    /// Opens the ledger at `location`. With `creating`, the schema is made or brought up to date; without, it must
    /// be there at this gridcast's version.
    /// - Throws: ``LedgerError`` when the server can't be reached, refuses the login, or holds no ledger.
    public static func open(
        _ location: PostgresLocation, instanceTimeout: Duration, creating: Bool
    ) async throws -> PostgresLedgerStore {
        // A direct connection first: it says at once what is wrong (the pool would keep retrying a bad password
        // or certificate for a minute).
        let version = try await schemaVersion(at: location)
        if !creating {
            guard let version else {
                throw LedgerError.invalid(
                    "no ledger at \(location.redacted) (gridcast serve or gridcast send creates it)")
            }
            guard version == Self.currentSchema else {
                throw LedgerError.invalid(
                    "the ledger at \(location.redacted) has schema \(version), this gridcast \(Self.currentSchema): "
                        + "run gridcast serve or send of this version once to upgrade it")
            }
        }
        return try await open(
            configuration: location.clientConfiguration(), location: location.redacted,
            instanceTimeout: instanceTimeout, listen: location.connectionConfiguration(), migrating: creating)
    }

    /// The schema version of the ledger at `location` (its latest migration), or nil when the database holds no
    /// ledger yet. One direct connection, closed before returning.
    /// - Throws: ``LedgerError`` when the server can't be reached or refuses the login.
    public static func schemaVersion(at location: PostgresLocation) async throws -> String? {
        let logger = {
            var logger = Logger(label: "gridcast.ledger.postgres")
            logger.logLevel = .warning
            return logger
        }()
        let configuration = try location.connectionConfiguration()
        do {
            return try await PostgresDeadline.run(within: location.connectTimeout ?? .seconds(10)) {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: 0, logger: logger)
                do {
                    let tx = PostgresTransaction(connection: connection, logger: logger)
                    let exists =
                        try await tx.value("SELECT to_regclass('schema_migrations')::text", as: String.self) != nil
                    let version =
                        exists
                        ? try await tx.value("SELECT max(version) FROM schema_migrations", as: String.self) : nil
                    try await connection.close()
                    return version
                } catch {
                    try? await connection.close()
                    throw error
                }
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.storage("cannot connect to \(location.redacted): \(PostgresFailure(error).words)")
        }
    }
}
