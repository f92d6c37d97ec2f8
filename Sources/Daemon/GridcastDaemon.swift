import Fanout
import Foundation
import GridcastCore
import Ledger
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Sinks
import Transport
import UnixSignals

/// `gridcast serve`: the scheduler, the dispatcher and the HTTP API on one ledger, under swift-service-lifecycle.
///
/// SIGTERM/SIGINT stop claiming, let requests in flight finish and be recorded, then exit 0. SIGHUP re-reads the
/// config and the notice library; an invalid new config is refused with its errors logged and the old one kept.
/// Under systemd (`Type=notify`) it reports READY, RELOADING, STOPPING, STATUS and watchdog pings.
public struct GridcastDaemon: Sendable {
    let configPath: String
    let logger: Logger
    let load: @Sendable (String) throws -> GridcastConfig

    /// Creates a daemon for the config at `configPath`; `load` validates a config (the CLI's loader).
    public init(configPath: String, logger: Logger, load: @escaping @Sendable (String) throws -> GridcastConfig) {
        self.configPath = configPath
        self.logger = logger
        self.load = load
    }

    /// How long a stop (SIGTERM) may take before the services are cancelled: a request in flight ends within
    /// `dispatch.timeout`, and recording it takes a commit; 15 s covers that commit waiting for the ledger's write
    /// lock. With the 5 s cancellation after it, serve ends within `dispatch.timeout` + 20 s, which systemd's
    /// `TimeoutStopSec` must exceed (the unit's 60 s does with the default 15 s timeout).
    public static func stopBound(_ config: GridcastConfig) -> Duration {
        config.dispatch.timeout + .seconds(15)
    }

    /// Runs until SIGTERM or SIGINT.
    public func run() async throws {
        let config = try load(configPath)
        ConfigWarnings.log(config, to: logger)
        let descriptors = DescriptorLimit.raise()
        logger.info(
            "file descriptors", metadata: ["limit": "\(descriptors.now)", "raised_from": "\(descriptors.before)"])
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        FanoutMetrics.enable()
        let notifier = SystemdNotifier()
        // The first open after an upgrade may rebuild a ledger table (about ten seconds per million deliveries):
        // ask systemd for start-up time beyond its default 90 s before opening, and say why.
        notifier.notify(["EXTEND_TIMEOUT_USEC": "600000000", "STATUS": "opening the ledger"])
        // A shared database that boots with this machine may not take connections yet: wait for it a while.
        let store = try await LedgerStores.open(config.ledger, access: .create, patience: .seconds(120))
        let live = LiveConfig(config)
        let transport = CurlTransport(configuration: .init(maxConnections: config.dispatch.concurrency))
        let heartbeat = Heartbeat()
        let health = LedgerHealth()
        // ServiceGroup stops services in reverse order: first the API and the scheduler (no new plans), then the
        // dispatcher (finishes and records what is in flight), last the reload handler and systemd status.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: StatusService(
                    live: live, store: store, notifier: notifier, heartbeat: heartbeat, health: health,
                    logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup
            ),
            // Stops after the dispatcher: its stop is recorded once nothing of this instance is claimed.
            .init(
                service: InstanceService(
                    store: store, identity: LeaseOwner.current.instance, health: health, logger: logger)),
            .init(
                service: ReloadService(
                    live: live, store: store, notifier: notifier, logger: logger, path: configPath, load: load)),
            .init(
                service: DispatchService(
                    live: live, store: store, transport: transport, heartbeat: heartbeat, logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup
            ),
            .init(service: CustomerGroupService(live: live, store: store, transport: transport, logger: logger)),
            .init(service: SchedulerService(live: live, store: store, logger: logger)),
            .init(service: CheckpointService(live: live, store: store, logger: logger)),
        ]
        if var api = config.api {
            let cap = DescriptorLimit.apiConnections(
                configured: api.maxConnections, softLimit: descriptors.now, concurrency: config.dispatch.concurrency)
            if cap < api.maxConnections {
                logger.warning(
                    "api.max_connections lowered to keep descriptors for deliveries and the ledger: raise LimitNOFILE",
                    metadata: [
                        "max_connections": "\(cap)", "configured": "\(api.maxConnections)",
                        "descriptor_limit": "\(descriptors.now)",
                    ])
                api.maxConnections = cap
            }
            services.append(
                .init(
                    service: try await makeAPIService(
                        api: api, live: live, store: store, registry: registry, health: health))
            )
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = Self.stopBound(config)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.info(
            "gridcast serving",
            metadata: [
                "groups": "\(config.groups.count)", "schedules": "\(config.schedules.count)",
                "notices": "\(config.library.entries.count)", "ledger": "\(LedgerStores.location(of: config.ledger))",
                "api": "\(config.api.map { "\($0.host):\($0.port)" } ?? "off")",
            ]
        )
        try await group.run()
        // Every service has stopped: the dispatcher recorded its last outcome, so this is the ledger as left.
        await CheckpointService.log(store: store, logger: logger, reason: "shutdown")
    }

    func makeAPIService(
        api: APIConfig, live: LiveConfig, store: any LedgerStore, registry: PrometheusCollectorRegistry,
        health: LedgerHealth
    )
        async throws -> any Service
    {
        makeAPIApplication(
            settings: APISettings(
                host: api.host, port: api.port, token: api.token, viewerToken: api.viewerToken ?? "",
                readTimeout: api.readTimeout,
                maxConnections: api.maxConnections),
            // Each submission is planned against the config of the moment (SIGHUP may have changed the groups);
            // non-urgent notices posted during quiet hours wait for their end.
            intake: {
                NoticeIntake(config: await live.current, sinks: .standard, store: store, respectQuietHours: true)
            },
            store: store,
            timeZone: await live.current.timeZone,
            registry: registry,
            logger: Logger(label: "gridcast.api"),
            health: health
        )
    }
}
