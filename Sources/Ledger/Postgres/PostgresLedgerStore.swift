import Foundation
import GridcastCore
import Logging
import PostgresNIO

/// The shared ledger: one PostgreSQL database that several gridcast instances, on one machine or several, use at
/// once. PostgreSQL's row locks, transactions and constraints do the coordination (`docs/postgres.md`): claims take
/// rows with `FOR UPDATE SKIP LOCKED`, every write is fenced as on SQLite, and one locked head row keeps the event
/// log a single chain.
public final class PostgresLedgerStore: LedgerStore {
    let client: PostgresClient
    let logger: Logger
    /// Where the database is, without its password: for messages.
    public let location: String
    /// How long one store call may take, retries included, before it fails.
    let deadline: Duration
    /// How long an instance may go without beating before its claims are ended (`ledger.instance_timeout`).
    let instanceTimeout: Duration
    /// Runs the client's connection pool for the store's life.
    private let pool: Task<Void, Never>
    /// Signalled after this store's plans, firings and retries commit, and the other instances' (``listener``).
    let wakeupHub: LedgerWakeups
    /// Takes one-bot send slots in batches (``PostgresSlotBatcher``).
    let slotBatcher: PostgresSlotBatcher
    /// Relays the other instances' commits, once a dispatcher asks for ``wakeups()``; nil without a configuration
    /// for its connection.
    private let listener: PostgresListener?

    /// Connects (lazily: the pool opens connections as calls need them). Call ``migrate()`` before anything else.
    init(
        configuration: PostgresClient.Configuration, location: String, instanceTimeout: Duration = .seconds(30),
        listen: PostgresConnection.Configuration? = nil, deadline: Duration = .seconds(30)
    ) {
        self.instanceTimeout = instanceTimeout
        var logger = Logger(label: "gridcast.ledger.postgres")
        logger.logLevel = .warning
        self.logger = logger
        self.location = location
        self.deadline = deadline
        // A session left idle inside a transaction — an instance frozen (SIGSTOP, a paused VM) between two statements
        // of a claim or an append — would hold its row locks, the event log's head among them, and stall every other
        // instance for as long as it stays frozen. The server ends such a session after a third of the instance
        // timeout (at least 2 s, far above the milliseconds between a live transaction's statements); its
        // transaction rolls back, and the frozen instance finds its claims ended when it resumes.
        var configuration = configuration
        let idle = max(instanceTimeout / 3, .seconds(2)).milliseconds
        configuration.options.additionalStartupParameters.append(
            ("idle_in_transaction_session_timeout", "\(idle)"))
        // A claim must be on disk before its request leaves: whatever the server's default, gridcast's commits wait
        // for the server's WAL flush.
        configuration.options.additionalStartupParameters.append(("synchronous_commit", "on"))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        pool = Task { await client.run() }
        let wakeups = LedgerWakeups()
        wakeupHub = wakeups
        listener = listen.map { PostgresListener(configuration: $0, wakeups: wakeups, logger: logger) }
        slotBatcher = PostgresSlotBatcher()
    }

    deinit {
        pool.cancel()
        if let listener { Task { await listener.stop() } }
    }

    public func wakeups() async -> LedgerWakeups {
        await listener?.start()
        return wakeupHub
    }

    /// Tells this process's dispatcher, and every instance listening, that work may be due: after a commit that
    /// made some. A hint only: when it can't be sent, the dispatchers' slow poll finds the work.
    func workArrived() async {
        await wakeupHub.signal()
        _ = try? await write { tx in try await Self.notifyWork(tx) }
    }

    /// Tells every instance listening that work may be due, when `tx` commits.
    static func notifyWork(_ tx: PostgresTransaction) async throws {
        try await tx.rows("SELECT pg_notify(\(PostgresListener.channel), '')")
    }

    /// Opens the ledger in the database `configuration` names and brings its schema up to date (``Self/migrate()``).
    /// - Throws: ``LedgerError`` when the database can't be reached or migrated.
    public static func open(
        configuration: PostgresClient.Configuration, location: String, instanceTimeout: Duration = .seconds(30),
        listen: PostgresConnection.Configuration? = nil, migrating: Bool = true
    ) async throws -> PostgresLedgerStore {
        let store = PostgresLedgerStore(
            configuration: configuration, location: location, instanceTimeout: instanceTimeout, listen: listen)
        if migrating { try await store.migrate() }
        return store
    }

    public func checkWritable() async throws {
        try await write { tx in _ = try await tx.rows("SELECT seq FROM event_head WHERE id = 1 FOR UPDATE") }
    }

    // MARK: - Transactions

    /// One write transaction (READ COMMITTED; every write is fenced or idempotent, so a retry after an unknown commit
    /// changes nothing twice). Retried on serialization failures, deadlocks and dropped connections.
    @discardableResult
    func write<T: Sendable>(
        within limit: Duration? = nil, _ body: @escaping @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await run(within: limit ?? deadline) { [client, logger] in
            // BEGIN and COMMIT are sent through the transaction's own checks (not postgres-nio's `withTransaction`,
            // whose BEGIN on a connection the server dropped — every pooled one after a restart — never returns).
            try await client.withConnection { connection in
                let tx = PostgresTransaction(connection: connection, logger: logger)
                try await tx.rows("BEGIN")
                do {
                    let result = try await body(tx)
                    try await tx.rows("COMMIT")
                    return result
                } catch {
                    // Nothing to roll back on a closed connection: the server ended the transaction with it.
                    if !connection.isClosed { _ = try? await tx.rows("ROLLBACK") }
                    throw error
                }
            }
        }
    }

    /// Reads — or one statement that commits on its own — on one pooled connection, outside a transaction unless
    /// `body` starts one.
    func read<T: Sendable>(
        within limit: Duration? = nil, _ body: @escaping @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await run(within: limit ?? deadline) { [client, logger] in
            try await client.withConnection { connection in
                try await body(PostgresTransaction(connection: connection, logger: logger))
            }
        }
    }

    /// `body` in one read-only REPEATABLE READ snapshot: what it reads in several statements is one moment's.
    func snapshot<T: Sendable>(
        within limit: Duration? = nil, _ body: @escaping @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await read(within: limit) { tx in
            try await tx.rows("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try await body(tx)
                try await tx.rows("COMMIT")
                return result
            } catch {
                _ = try? await tx.rows("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs `attempt` under the store's deadline, again after a retryable failure; errors become ``LedgerError``.
    private func run<T: Sendable>(
        within deadline: Duration, _ attempt: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let started = ContinuousClock.now
        var tries = 0
        while true {
            tries += 1
            do {
                let left = deadline - (ContinuousClock.now - started)
                return try await PostgresDeadline.run(within: max(left, .milliseconds(100)), attempt)
            } catch let error as LedgerError {
                throw error
            } catch {
                let failure = PostgresFailure(error)
                guard failure.isRetryable, tries < 6, ContinuousClock.now - started < deadline else {
                    throw failure.ledgerError
                }
                logger.info("ledger retry", metadata: ["sqlstate": "\(failure.sqlState ?? "-")", "try": "\(tries)"])
                try await Task.sleep(for: .milliseconds(25 << min(tries, 6)))
            }
        }
    }
}
