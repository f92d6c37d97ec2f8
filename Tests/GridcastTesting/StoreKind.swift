import Crypto
import Foundation
import GridcastCore
import Ledger
import Logging
import PostgresNIO
import Testing

/// A ledger store the store-contract tests run against: every test written against `LedgerStore` runs once per
/// kind listed in `allCases`, so a new store starts with all of them to pass (`docs/ledger.md`, "The store
/// contract").
public enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// The embedded SQLite store.
    case sqlite
    /// The shared PostgreSQL store, on the test server `scripts/test.sh` starts (``PostgresTestServer``).
    case postgres

    /// The kinds this run can test: PostgreSQL when a test server is there.
    public static var allCases: [StoreKind] {
        PostgresTestServer.url == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    /// A handle on the ledger of this kind that lives in `directory`: created empty by the first call, the same
    /// ledger for every later call (another process's view of it).
    public func open(in directory: TemporaryDirectory) async throws -> any LedgerStore {
        switch self {
        case .sqlite: try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        case .postgres: try await PostgresTestServer.store(for: directory.path)
        }
    }

    /// Everything the ledger in `directory` holds, as bytes: the SQLite file, or every row of every table of the
    /// database as text (a secret must be in neither). Read over a connection, not by a child process: tests run
    /// in parallel, and launching processes from many at once is what Foundation handles worst.
    public func rawContents(in directory: TemporaryDirectory) async throws -> Data {
        switch self {
        case .sqlite:
            return try Data(contentsOf: URL(fileURLWithPath: directory.file("ledger.sqlite")))
        case .postgres:
            return try await PostgresTestServer.everyRow(key: directory.path)
        }
    }

    public var testDescription: String { rawValue }
}

/// The throwaway PostgreSQL server of a test run (`scripts/postgres-test-server.sh`): its URL comes in
/// `GRIDCAST_TEST_POSTGRES_URL`, and each test gets a database of its own, named after its temporary directory.
public enum PostgresTestServer {
    /// The server's URL (`postgres://postgres@127.0.0.1:PORT/postgres`), when one runs.
    public static var url: URL? {
        ProcessInfo.processInfo.environment["GRIDCAST_TEST_POSTGRES_URL"].flatMap(URL.init(string:))
    }

    /// The database a key (a temporary directory) names: made once, empty.
    public static func database(for key: String) async throws -> String {
        let name = "gridcast_t_" + Hex.encode(SHA256.hash(data: Data(key.utf8))).prefix(24)
        let connection = try await PostgresConnection.connect(
            configuration: configuration(database: "postgres"), id: 1, logger: logger)
        defer { Task { try? await connection.close() } }
        let exists = try await connection.query(
            "SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger
        ).collect()
        if exists.isEmpty {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
                // Made by a concurrent open of the same ledger.
            }
        }
        return name
    }

    /// The URL of the key's database, for a config's `ledger.url`.
    public static func url(for key: String) async throws -> String {
        guard var url = url.flatMap({ URLComponents(url: $0, resolvingAgainstBaseURL: false) }) else {
            throw TestServerMissing()
        }
        url.path = "/" + (try await database(for: key))
        return url.string ?? ""
    }

    /// Every row of every table in the key's database (the public schema), each as PostgreSQL's text of the row.
    public static func everyRow(key: String) async throws -> Data {
        let connection = try await PostgresConnection.connect(
            configuration: configuration(database: try await database(for: key)), id: 3, logger: logger)
        do {
            let tables = try await connection.query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", logger: logger
            ).collect().map { try $0.decode(String.self) }
            var text = ""
            for table in tables {
                for row in try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT t::text FROM \(table) t"), logger: logger
                ).collect() {
                    text += table + " " + (try row.decode(String.self)) + "\n"
                }
            }
            try await connection.close()
            return Data(text.utf8)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs `sql` on the key's database as an intruder would: outside gridcast.
    public static func execute(_ sql: String, key: String) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: configuration(database: try await database(for: key)), id: 2, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A store on the key's database.
    public static func store(for key: String) async throws -> PostgresLedgerStore {
        let database = try await database(for: key)
        return try await PostgresLedgerStore.open(
            configuration: clientConfiguration(database: database), location: "test database \(database)")
    }

    /// The client configuration for one of the server's databases.
    public static func clientConfiguration(database: String) throws -> PostgresClient.Configuration {
        guard let url, let host = url.host, let port = url.port else {
            throw TestServerMissing()
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: url.user ?? "postgres", password: url.password, database: database,
            tls: .disable)
        configuration.options.maximumConnections = 8
        return configuration
    }

    static func configuration(database: String) throws -> PostgresConnection.Configuration {
        guard let url, let host = url.host, let port = url.port else {
            throw TestServerMissing()
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: url.user ?? "postgres", password: url.password, database: database,
            tls: .disable)
    }

    static let logger = Logger(label: "gridcast.test.postgres")

    /// Stops the server at once, as a crash or a power cut would (`pg_ctl stop -m immediate`).
    public static func crash() async throws {
        try await control(["stop", "-m", "immediate", "-w"])
    }

    /// Starts the server again with the options it last ran with (its `postmaster.opts`).
    public static func start() async throws {
        guard let directory = ProcessInfo.processInfo.environment["GRIDCAST_TEST_POSTGRES_DIR"] else {
            throw TestServerMissing()
        }
        let opts = try String(contentsOfFile: directory + "/data/postmaster.opts", encoding: .utf8)
        // `/path/postgres "-D" "…" "-p" "…" …`: everything after the program is what it was started with.
        let options = opts.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
        try await control(["start", "-w", "-t", "60", "-o", options.trimmingCharacters(in: .whitespacesAndNewlines)])
    }

    /// Runs the server's `pg_ctl` wrapper (`GRIDCAST_TEST_POSTGRES_CTL`) with `arguments`.
    static func control(_ arguments: [String]) async throws {
        guard let ctl = ProcessInfo.processInfo.environment["GRIDCAST_TEST_POSTGRES_CTL"] else {
            throw TestServerMissing()
        }
        let status = try await GridcastProcess.launch(ctl, arguments).wait().status
        guard status == 0 else { throw ControlFailed(arguments: arguments, status: status) }
    }

    /// `pg_ctl` failed.
    public struct ControlFailed: Error {
        public var arguments: [String]
        public var status: Int32
    }

    /// No test server: `GRIDCAST_TEST_POSTGRES_URL` is unset or not a URL with host and port.
    public struct TestServerMissing: Error {}
}
