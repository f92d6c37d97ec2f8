import Foundation
import GridcastCore
import PostgresNIO

extension PostgresLedgerStore {
    /// Opens the ledger at `location`. With `creating`, the schema is made or brought up to date; without, it must
    /// be there at this gridcast's version.
    /// A server that is starting up or not reachable yet is asked again for up to `patience` (the daemon waits
    /// for a database that boots with it; a command says at once what is wrong).
    /// - Throws: ``LedgerError`` when the server can't be reached, refuses the login, or holds no ledger.
    public static func open(
        _ location: PostgresLocation, instanceTimeout: Duration, creating: Bool, patience: Duration = .zero
    ) async throws -> PostgresLedgerStore {
        // A direct connection first: it says at once what is wrong (the pool would keep retrying a bad password
        // or certificate for a minute).
        let started = ContinuousClock.now
        var version: String?
        while true {
            do {
                version = try await reachSchemaVersion(at: location)
                break
            } catch let failure as PostgresFailure where failure.isRetryable || failure.isUnreachable {
                guard ContinuousClock.now - started < patience else {
                    throw LedgerError.storage("cannot connect to \(location.redacted): \(failure.words)")
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
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
        do {
            return try await reachSchemaVersion(at: location)
        } catch let failure as PostgresFailure {
            throw LedgerError.storage("cannot connect to \(location.redacted): \(failure.words)")
        }
    }

    /// ``schemaVersion(at:)``, a server not reachable yet thrown as its ``PostgresFailure``.
    private static func reachSchemaVersion(at location: PostgresLocation) async throws -> String? {
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
            let failure = PostgresFailure(error)
            // Asked again by a patient caller; reported to the others below.
            if failure.isRetryable || failure.isUnreachable { throw failure }
            throw LedgerError.storage("cannot connect to \(location.redacted): \(failure.words)")
        }
    }
}
