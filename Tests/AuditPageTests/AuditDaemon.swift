import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// `gridcast serve` (the real binary) on a real SQLite ledger, with the emulator playing WeCom, after a day of
/// sends: three notices to eight groups, one notice titled `<script>x</script>`, one group whose name holds HTML,
/// and injected faults — by default two groups refuse for good (dead), one answers 502 (in doubt), one is busy twice
/// (retried, then sent).
struct AuditDaemon {
    /// The API token of the daemon's config.
    static let token = "audit-page-token-5b1e9c7d3a2f4e60"
    /// The audit page's read-only token, given to the daemon as `viewer_token: ${AUDIT_VIEWER_TOKEN}`.
    static let viewerToken = "audit-viewer-token-8c2d4f6a1b3e5d70"
    /// The default faults: three dead deliveries, one in doubt.
    static let dayFaults = FaultPlan(faults: [
        "g0001": [.permanent, .permanent],
        "g0002": [.status(502)],
        "g0003": [.busy, .busy],
        "g0006": [.permanent],
    ])
    /// Faults for the actions: g0001's two notices dead (audit-1 and audit-2); every delivery to g0002, g0003 and
    /// g0004 in doubt (so audit-1 has three in doubt).
    static let actionFaults = FaultPlan(faults: [
        "g0001": [.permanent, .permanent],
        "g0002": [.status(502), .status(502), .status(502)],
        "g0003": [.status(502), .status(502)],
        "g0004": [.status(502), .status(502), .status(502)],
    ])
    /// The deliveries the sends plan: two notices to all eight groups, one to the four even ones.
    static let plannedDeliveries = 20
    /// The group whose name needs escaping, and that name.
    static let htmlGroup = "g0005"
    static let htmlGroupName = "网格群<b>&\"5\"</b>"
    /// The notice whose title needs escaping, and that title.
    static let scriptNotice = "audit-1"
    static let scriptTitle = "<script>x</script>"

    let emulator: EmulatorServer
    let directory: TemporaryDirectory
    let configPath: String
    let port: Int
    let daemon: GridcastProcess.Running
    let client = CurlTransport(configuration: .init(maxConnections: 4))

    /// Starts the emulator and the daemon, posts the notices and waits until every delivery is settled.
    static func start(faults: FaultPlan = dayFaults) async throws -> AuditDaemon {
        let directory = try TemporaryDirectory("audit-page")
        var groups = TestGroups.wecom(8, port: 0)
        let emulator = try await EmulatorServer.start(groups: groups, faults: faults, enforceRateLimits: false)
        groups = TestGroups.wecom(8, port: emulator.port)
        groups[5].name = htmlGroupName
        let port = try await freePort()
        let yaml = TestGroups.yaml(
            groups, ledger: directory.file("ledger.sqlite"),
            extra: """
                api:
                  listen: 127.0.0.1:\(port)
                  token: \(token)
                  viewer_token: ${AUDIT_VIEWER_TOKEN}

                """
        )
        let configPath = try directory.write("gridcast.yaml", yaml)
        let daemon = try GridcastProcess.start(
            ["serve", "--config", configPath],
            environment: ["GRIDCAST_LOG_LEVEL": "info", "AUDIT_VIEWER_TOKEN": viewerToken]
        )
        let setup = AuditDaemon(
            emulator: emulator, directory: directory, configPath: configPath, port: port, daemon: daemon
        )
        do {
            try await setup.sendTheDay()
        } catch {
            _ = try? await setup.stop()
            throw error
        }
        return setup
    }

    /// Posts the day's notices through the API and waits until none is left to send.
    private func sendTheDay() async throws {
        try await waitUntil { (try? await request("GET", "/healthz").status) == 200 }
        let notices = [
            #"{"id":"audit-1","title":"<script>x</script>","text":"不回拨陌生来电。","to":"all"}"#,
            #"{"id":"audit-2","title":"警惕“安全账户” & 刷单","text":"公检法不会让你转账到“安全账户”。","to":"all"}"#,
            #"{"id":"audit-3","title":"养老诈骗提醒","text":"以房养老、保健品，多问子女。","to":"tag:even"}"#,
        ]
        for notice in notices {
            let answer = try await request("POST", "/v1/notices", bearer: Self.token, body: notice)
            #expect(answer.status == 202, "\(answer.bodyText)")
        }
        try await waitUntil(timeout: .seconds(60)) {
            let answer = try await request("GET", "/v1/reports/daily", bearer: Self.token)
            guard answer.status == 200,
                let report = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
            else { return false }
            return report["deliveries"] as? Int == Self.plannedDeliveries && report["pending"] as? Int == 0
                && report["retry"] as? Int == 0
        }
    }

    /// A free loopback port (bound and released by a throwaway emulator).
    static func freePort() async throws -> Int {
        let probe = try await EmulatorServer.start()
        let port = probe.port
        try await probe.stop()
        return port
    }

    /// `http://127.0.0.1:PORT`.
    var base: String { "http://127.0.0.1:\(port)" }

    /// A request to the daemon, with an optional session cookie, bearer token, form or JSON body and more headers.
    func request(
        _ method: String, _ path: String, cookie: String? = nil, bearer: String? = nil, form: String? = nil,
        body: String? = nil, headers extra: [HTTPHeader] = []
    ) async throws -> HTTPResponse {
        var headers = extra
        if let cookie { headers.append(HTTPHeader("Cookie", cookie)) }
        if let bearer { headers.append(HTTPHeader("Authorization", "Bearer \(bearer)")) }
        if form != nil { headers.append(HTTPHeader("Content-Type", "application/x-www-form-urlencoded")) }
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        let bytes = Array((form ?? body ?? "").utf8)
        return try await client.send(
            HTTPRequest(method: method, url: base + path, headers: headers, body: bytes, timeout: .seconds(10))
        ).get()
    }

    /// Logs in with the form (as the admin by default) and returns the `Cookie` header value of the session.
    func login(token: String = AuditDaemon.token) async throws -> String {
        let answer = try await request("POST", "/login", form: "token=\(token)")
        #expect(answer.status == 303)
        let setCookie = try #require(answer.header("set-cookie"))
        return String(try #require(setCookie.split(separator: ";").first))
    }

    /// The CSRF token of the session `cookie`, as its page carries it (in every form, logout's included).
    func csrfToken(cookie: String) async throws -> String {
        let page = try await request("GET", "/", cookie: cookie).bodyText
        let match = try #require(page.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/))
        return String(match.output.1)
    }

    /// The daemon's ledger, opened read-only.
    func ledger() throws -> SQLiteLedgerStore {
        try SQLiteLedgerStore(readingOnly: directory.file("ledger.sqlite"))
    }

    /// The deliveries of `notice`, by group id.
    func deliveries(of notice: String) async throws -> [String: DeliveryRecord] {
        let rows = try await ledger().deliveries(noticeID: notice)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.groupID, $0) })
    }

    /// Runs `gridcast ARGS… --config CONFIG` and returns its standard output; the run must succeed.
    func cli(_ arguments: [String]) async throws -> String {
        let result = try await GridcastProcess.run(
            arguments + ["--config", configPath], environment: ["AUDIT_VIEWER_TOKEN": Self.viewerToken])
        #expect(result.status == 0, "gridcast \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    /// `gridcast report daily --format json` for today, as a dictionary.
    func dailyReport() async throws -> [String: Any] {
        let json = try await cli(["report", "daily", "--format", "json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    /// Stops the daemon with SIGTERM, closes the emulator and the client, removes the files; the daemon's result.
    @discardableResult
    func stop() async throws -> GridcastProcess.Result {
        daemon.terminate()
        let result = try await daemon.wait()
        await client.shutdown()
        try await emulator.stop()
        directory.remove()
        return result
    }
}
