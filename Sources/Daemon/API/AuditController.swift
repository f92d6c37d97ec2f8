import Foundation
import GridcastCore
import Hummingbird
import Ledger
import Logging
import Reports

/// The web audit page of `gridcast serve`, for the community secretary and the auditor.
///
/// | Route | Answer |
/// |---|---|
/// | `GET /?date=` | the audit page of the day (default today); without a session the login page (200) |
/// | `GET /login` | the login page; with a session a redirect to `/` |
/// | `POST /login` | form field `token`: right → 303 to `/` with the session cookie; wrong → the login page, 401 |
/// | `POST /logout` | ends the session, clears the cookie, 303 to `/login` |
/// | `GET /audit/report.csv?date=` | `gridcast report daily --format csv` of the day |
/// | `GET /audit/ledger.csv?date=` | `gridcast ledger list --date D --format csv` |
///
/// The page and the CSV routes accept the session cookie or `Authorization: Bearer <token>` (so scripts can fetch
/// the CSV); the CSV routes answer 401 without either. These routes are mounted before the API's token middleware
/// and check their own credentials; tokens are compared in constant time and never logged, echoed or put in a URL.
struct AuditController: Sendable {
    private let token: [UInt8]
    private let sessions: AuditSessions
    private let store: any LedgerStore
    private let timeZone: TimeZone
    private let now: @Sendable () -> Date

    /// Creates the controller for the API token `token` (an empty token lets nobody in).
    init(
        token: String, store: any LedgerStore, timeZone: TimeZone, now: @escaping @Sendable () -> Date,
        sessions: AuditSessions = AuditSessions()
    ) {
        self.token = Array(token.utf8)
        self.sessions = sessions
        self.store = store
        self.timeZone = timeZone
        self.now = now
    }

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("/", use: page)
        router.get("login", use: loginPage)
        router.post("login", use: login)
        router.post("logout", use: logout)
        router.get("audit/report.csv", use: reportCSV)
        router.get("audit/ledger.csv", use: ledgerCSV)
    }

    /// The audit page, or the login page without a session.
    @Sendable func page(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard isAuthenticated(request) else { return AuditResponses.html(AuditLoginPage.html()) }
        guard let day = requestedDay(request) else { return AuditResponses.html(Self.badDatePage, status: .badRequest) }
        let snapshot = try await AuditSnapshot.load(day: day, store: store, now: now())
        return AuditResponses.html(AuditPageHTML(snapshot: snapshot).html)
    }

    /// The login page; a visitor with a session goes on to the audit page.
    @Sendable func loginPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard !isAuthenticated(request) else { return AuditResponses.seeOther("/") }
        let loggedOut = request.uri.queryParameters["logged_out"] != nil
        return AuditResponses.html(AuditLoginPage.html(notice: loggedOut ? .loggedOut : .none))
    }

    /// Checks the submitted token; opens a session when it is right.
    @Sendable func login(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: AuditLoginForm.maxBodySize)
        let form = AuditLoginForm(body: body.readableBytesView)
        guard ConstantTimeComparison.equal(form.token.utf8, token) else {
            context.logger.notice("audit login refused: wrong token")
            return AuditResponses.html(AuditLoginPage.html(notice: .wrongToken), status: .unauthorized)
        }
        var response = AuditResponses.seeOther("/")
        response.setCookie(AuditSessions.cookie(for: sessions.open(now: now())))
        context.logger.info("audit login")
        return response
    }

    /// Ends the session and clears the cookie.
    @Sendable func logout(_ request: Request, context: APIRequestContext) async throws -> Response {
        if let id = AuditSessions.presentedID(in: request) { sessions.close(id) }
        var response = AuditResponses.seeOther("/login?logged_out=1")
        response.setCookie(AuditSessions.clearingCookie)
        return response
    }

    /// The day's report as CSV, one row per group and a `TOTAL` row.
    @Sendable func reportCSV(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard isAuthenticated(request) else { return Self.unauthorizedText }
        guard let day = requestedDay(request) else { return Self.badDateText }
        let report = try await PeriodReport.make(day: day, store: store)
        return AuditResponses.csv(report.rendered(as: .csv), filename: "gridcast-report-\(day).csv")
    }

    /// The day's ledger rows as CSV, one per delivery.
    @Sendable func ledgerCSV(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard isAuthenticated(request) else { return Self.unauthorizedText }
        guard let day = requestedDay(request) else { return Self.badDateText }
        let rows = try await store.deliveries(matching: DeliveryFilter(changedFrom: day.start, changedBefore: day.end))
        return AuditResponses.csv(
            LedgerListing(rows: rows, timeZone: timeZone).rendered(as: .csv), filename: "gridcast-ledger-\(day).csv"
        )
    }

    /// True with the right bearer token, or (without an `Authorization` header) a live session cookie.
    func isAuthenticated(_ request: Request) -> Bool {
        let authorization = request.headers[values: .authorization]
        if !authorization.isEmpty {
            guard let presented = BearerTokenMiddleware<APIRequestContext>.bearerToken(in: authorization) else {
                return false
            }
            return ConstantTimeComparison.equal(presented, token)
        }
        guard let id = AuditSessions.presentedID(in: request) else { return false }
        return sessions.isValid(id, now: now())
    }

    /// The `date` query parameter, or today in the config's time zone without one; nil when it is no date.
    func requestedDay(_ request: Request) -> LocalDay? {
        guard let text = request.uri.queryParameters["date"] else { return LocalDay(date: now(), timeZone: timeZone) }
        return LocalDay(parsing: String(text), timeZone: timeZone)
    }

    /// 401 of the CSV routes.
    static var unauthorizedText: Response {
        AuditResponses.text(
            "需要登录或令牌。Log in at / or send Authorization: Bearer <token>.\n", status: .unauthorized
        )
    }

    /// 400 of the CSV routes for a bad `date`.
    static var badDateText: Response {
        AuditResponses.text(
            "日期格式应为 YYYY-MM-DD。date must be a calendar date YYYY-MM-DD.\n", status: .badRequest
        )
    }

    /// 400 of the page for a bad `date`.
    static let badDatePage = AuditHTML.document(
        title: "日期无效",
        body: """
            <main class="login"><p class="error">日期格式应为 YYYY-MM-DD。\
            <small>date must be a calendar date YYYY-MM-DD.</small></p>
            <p><a href="/">返回今天 <small>Back to today</small></a></p></main>
            """
    )
}
