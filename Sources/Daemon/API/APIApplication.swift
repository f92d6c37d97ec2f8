import Fanout
import Foundation
import Hummingbird
import Ledger
import Logging
import NIOCore
import Prometheus

/// Builds the HTTP API of `gridcast serve` (a Hummingbird application, itself a `Service` to run in the daemon's
/// service group).
///
/// | Route | Answer |
/// |---|---|
/// | `GET /healthz` | 200 `ok`, 503 and the reason while the ledger is unreachable; without a token |
/// | `POST /v1/notices` | 202 new, 200 same id and content, 409 other content, 422 invalid, 400 unreadable, 413 too big |
/// | `GET /v1/notices/{id}` | 200 per-group states (`held_until` when quiet hours hold it), poster and card, 404 unknown |
/// | `GET /v1/notices/{id}/poster` | 200 the recorded poster with its content type, 404 unknown or without one |
/// | `DELETE /v1/notices/{id}` | 200 unsent deliveries cancelled (`in_flight`: claimed, not cancelled), 404 unknown |
/// | `GET /v1/reports/{daily,weekly,monthly,yearly}?date=` | 200 the period's report JSON, 400 bad date |
/// | `GET /metrics` | 200 Prometheus text |
/// | `GET /favicon.ico` | 204, without a token |
/// | `GET /`, `/login`, `POST /login`, `/logout`, `GET /audit/*.csv`, `/audit/poster/{id}`, `POST /audit/{retry,resolve}` | the web audit
/// page (``AuditController``) |
///
/// Every route but `/healthz`, `/favicon.ico` and the audit page's needs `Authorization: Bearer <token>` (else
/// 401). The audit page takes the same token (or the read-only viewer token) through a login form and a session
/// cookie (or the bearer header). Errors are JSON
/// `{"error": "...", "field": "..."}`; no answer holds a token or a group's URL.
///
/// - Parameters:
///   - settings: Where to listen, the token and the viewer token.
///   - intake: Plans submitted notices, as for `gridcast send`.
///   - store: The ledger, for notice states and reports.
///   - timeZone: The config's time zone: "today" for the daily report.
///   - registry: The Prometheus registry swift-metrics was bootstrapped with.
///   - logger: The API's logger.
///   - health: Whether the ledger answers, for `/healthz`.
///   - now: The clock for planning and for "today".
///   - onServerRunning: Called with the bound port once the server listens (useful with port 0).
public func makeAPIApplication(
    settings: APISettings,
    intake: NoticeIntake,
    store: any LedgerStore,
    timeZone: TimeZone,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    now: @escaping @Sendable () -> Date = { Date() },
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    makeAPIApplication(
        settings: settings, intake: { intake }, store: store, timeZone: timeZone, registry: registry,
        logger: logger, now: now, onServerRunning: onServerRunning
    )
}

/// Builds the HTTP API like ``makeAPIApplication(settings:intake:store:timeZone:registry:logger:now:onServerRunning:)``,
/// asking `intake` for the intake of the current config on every submission, so that notices posted after a
/// SIGHUP reload are planned for the reloaded groups.
public func makeAPIApplication(
    settings: APISettings,
    intake: @escaping @Sendable () async -> NoticeIntake,
    store: any LedgerStore,
    timeZone: TimeZone,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    health: LedgerHealth = LedgerHealth(),
    now: @escaping @Sendable () -> Date = { Date() },
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = makeAPIRouter(
        token: settings.token, viewerToken: settings.viewerToken, intake: intake, store: store, timeZone: timeZone,
        registry: registry, health: health, now: now
    )
    // Every connection holds a descriptor of the daemon's, which the deliveries and the ledger need too: a request
    // must arrive in time, and the open connections are capped.
    let slowRequests = BurstLog(
        logger: logger,
        message: "api: closed a connection that sent no complete request in time (api.read_timeout)")
    let connections = OpenConnections(limit: settings.maxConnections)
    let readTimeout = TimeAmount.nanoseconds(
        settings.readTimeout.components.seconds * 1_000_000_000 + settings.readTimeout.components.attoseconds
            / 1_000_000_000)
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    RequestDeadlineHandler(limit: readTimeout, events: slowRequests, connections: connections)
                ])),
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "gridcast",
            availableConnectionsDelegate: ConnectionCap(connections: connections, logger: logger)),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? settings.port
            logger.info("api listening", metadata: ["host": "\(settings.host)", "port": "\(port)"])
            await onServerRunning(port)
        },
        logger: logger
    )
}

/// The API's routes and middleware, in order: JSON errors around everything, `/healthz`, the audit page (which
/// checks its session cookie or the token itself), the token check, then the authenticated routes (and the 404 of
/// unknown routes, which therefore needs a token too).
func makeAPIRouter(
    token: String,
    viewerToken: String = "",
    intake: @escaping @Sendable () async -> NoticeIntake,
    store: any LedgerStore,
    timeZone: TimeZone,
    registry: PrometheusCollectorRegistry,
    health: LedgerHealth = LedgerHealth(),
    now: @escaping @Sendable () -> Date
) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: APIErrorMiddleware())
    router.add(middleware: AnswerTimeZoneMiddleware(timeZone: timeZone))
    router.get("healthz") { _, _ in
        let problem = await health.problem
        return Response(
            status: problem == nil ? .ok : .serviceUnavailable,
            body: .init(byteBuffer: ByteBuffer(string: problem ?? "ok")))
    }
    // Browsers ask for it on their own; without a route it would be a refused request in the log.
    router.get("favicon.ico") { _, _ in Response(status: .noContent, headers: [.cacheControl: "max-age=86400"]) }
    AuditController(token: token, viewerToken: viewerToken, store: store, timeZone: timeZone, now: now)
        .addRoutes(to: router)
    router.add(middleware: BearerTokenMiddleware(token: token))
    NoticeController(intake: intake, store: store, now: now).addRoutes(to: router.group("v1/notices"))
    ReportController(store: store, timeZone: timeZone, now: now).addRoutes(to: router.group("v1/reports"))
    MetricsController(registry: registry).addRoutes(to: router)
    return router
}
