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
/// | `POST /login` | form field `token`: the API token (admin) or the viewer token → 303 to `/` with the session
/// cookie; wrong → the login page, 401 |
/// | `POST /logout` | ends the session, clears the cookie, 303 to `/login` |
/// | `GET /audit/report.csv?date=` | `gridcast report daily --format csv` of the day |
/// | `GET /audit/ledger.csv?date=` | `gridcast ledger list --date D --format csv` |
/// | `GET /audit/poster/{id}` | the notice's recorded poster, as `GET /v1/notices/{id}/poster` |
/// | `POST /audit/retry` | admin: send a notice's dead deliveries again (confirmation first) |
/// | `POST /audit/resolve` | admin: settle a notice's in_doubt deliveries as sent or resend (confirmation first) |
///
/// The page, the CSV and poster routes accept the session cookie or `Authorization: Bearer <token>` with either token
/// (so scripts can fetch the CSV); the CSV and poster routes answer 401 without either. The POSTs need the session cookie, the
/// session's CSRF token and a same-origin request (``AuditActionGuard``); the actions also the admin's session.
/// These routes are mounted before the API's token middleware and check their own credentials; tokens are compared
/// in constant time and never logged, echoed or put in a URL.
struct AuditController: Sendable {
    private let token: [UInt8]
    private let viewerToken: [UInt8]
    private let sessions: AuditSessions
    private let store: any LedgerStore
    private let timeZone: TimeZone
    private let now: @Sendable () -> Date

    /// Who a request is: a session, or a bearer token (no session, so no CSRF token and no actions).
    struct Visitor: Sendable, Equatable {
        /// The role of the token it logged in or came with.
        var role: AuditRole
        /// Its session, if it has one.
        var session: AuditSessions.Session?
    }

    /// Creates the controller for the API token `token` and the read-only `viewerToken` (an empty token lets
    /// nobody in).
    init(
        token: String, viewerToken: String = "", store: any LedgerStore, timeZone: TimeZone,
        now: @escaping @Sendable () -> Date, sessions: AuditSessions = AuditSessions()
    ) {
        self.token = Array(token.utf8)
        self.viewerToken = Array(viewerToken.utf8)
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
        router.get("audit/poster/{id}", use: poster)
        router.post("audit/retry") { request, context in try await action(request, context: context, resolving: false) }
        router.post("audit/resolve") { request, context in try await action(request, context: context, resolving: true)
        }
    }

    /// The audit page, or the login page without a session.
    @Sendable func page(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let visitor = visitor(request) else { return AuditResponses.html(AuditLoginPage.html()) }
        guard let day = requestedDay(request) else { return AuditResponses.html(Self.badDatePage, status: .badRequest) }
        let snapshot = try await AuditSnapshot.load(day: day, store: store, now: now())
        let access = AuditPageHTML.Access(role: visitor.role, csrfToken: visitor.session?.csrfToken)
        let query = request.uri.queryParameters
        let done = AuditActionDone(done: query["done"], count: query["count"])
        return AuditResponses.html(AuditPageHTML(snapshot: snapshot, access: access, done: done).html)
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
        guard let role = role(of: form.token.utf8) else {
            context.logger.notice("audit login refused: wrong token")
            return AuditResponses.html(AuditLoginPage.html(notice: .wrongToken), status: .unauthorized)
        }
        var response = AuditResponses.seeOther("/")
        response.setCookie(AuditSessions.cookie(for: sessions.open(now: now(), role: role)))
        context.logger.info("audit login", metadata: ["role": "\(role.rawValue)"])
        return response
    }

    /// Ends the session and clears the cookie. A live session's logout must pass ``AuditActionGuard`` (so no other
    /// page can log the visitor out); without one there is nothing to end and the cookie is just cleared.
    @Sendable func logout(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: AuditLoginForm.maxBodySize)
        if let id = AuditSessions.presentedID(in: request), let session = sessions.session(id, now: now()) {
            if let refusal = AuditActionGuard.check(
                request, form: AuditForm(body: body.readableBytesView), session: session, admin: false)
            {
                return refused(refusal, path: "/logout", context: context)
            }
            sessions.close(id)
        }
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
        let taskMsgids = try await store.taskMessageIDs(noticeIDs: Array(Set(rows.map(\.noticeID))).sorted())
        return AuditResponses.csv(
            LedgerListing(rows: rows, timeZone: timeZone, taskMsgids: taskMsgids).rendered(as: .csv),
            filename: "gridcast-ledger-\(day).csv"
        )
    }

    /// A notice's recorded poster, as `GET /v1/notices/{id}/poster` answers it, for the page's session.
    @Sendable func poster(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard isAuthenticated(request) else { return Self.unauthorizedText }
        return try await PosterController.image(of: try context.parameters.require("id"), in: store)
    }

    /// `POST /audit/retry` and `POST /audit/resolve`: the guard, then the confirmation page, or (with
    /// `confirm=yes`) the change and a 303 back to today's page, which says what changed.
    func action(_ request: Request, context: APIRequestContext, resolving: Bool) async throws -> Response {
        var request = request
        let path = request.uri.path
        let form = AuditForm(body: try await request.collectBody(upTo: APISettings.maxBodySize).readableBytesView)
        let session = AuditSessions.presentedID(in: request).flatMap { sessions.session($0, now: now()) }
        if let refusal = AuditActionGuard.check(request, form: form, session: session, admin: true) {
            return refused(refusal, path: path, context: context)
        }
        guard let session else { return refused(.noSession, path: path, context: context) }
        let action: AuditActionRequest
        do {
            action = try AuditActionRequest(form: form, resolving: resolving)
        } catch {
            let (chinese, english) = AuditActionPages.problem(error)
            return AuditResponses.html(
                AuditActionPages.problem(chinese, english, date: form.value("date")), status: .badRequest)
        }
        let actions = AuditActions(store: store)
        do {
            guard action.confirmed else {
                let rows = try await actions.selected(action)
                return AuditResponses.html(
                    AuditActionPages.confirmation(
                        action, rows: rows, csrfToken: session.csrfToken, timeZone: timeZone))
            }
            let changed = try await actions.perform(action, by: session.role.actor, at: now())
            context.logger.info(
                "audit page action",
                metadata: [
                    "action": "\(path)", "notice": "\(action.noticeID)",
                    "groups": "\(changed.map(\.groupID).joined(separator: ","))", "by": "\(session.role.actor)",
                ])
            return AuditResponses.seeOther(AuditActionDone(kind: action.kind, count: changed.count).location)
        } catch let failure as AuditActions.Failure {
            let (chinese, english) = AuditActionPages.failure(failure, noticeID: action.noticeID)
            let status: HTTPResponse.Status = failure == .unknownNotice ? .notFound : .conflict
            return AuditResponses.html(AuditActionPages.problem(chinese, english, date: action.date), status: status)
        } catch let error as LedgerError where error.isInvalid {
            // Another operator got there first (the rows changed since the check): the ledger's message names them.
            return AuditResponses.html(
                AuditActionPages.problem("台帐拒绝了此操作：\(error)", "The ledger refused: \(error)", date: action.date),
                status: .conflict)
        }
    }

    /// The 403 page of a refused POST, logged without the form's contents.
    func refused(_ refusal: AuditActionGuard.Refusal, path: String, context: APIRequestContext) -> Response {
        context.logger.notice("audit post refused", metadata: ["path": "\(path)", "reason": "\(refusal)"])
        let (chinese, english) = AuditActionPages.refusal(refusal)
        return AuditResponses.html(AuditActionPages.problem(chinese, english), status: .forbidden)
    }

    /// The role a presented token logs in as; both tokens are compared in full, in constant time.
    func role(of presented: some Collection<UInt8>) -> AuditRole? {
        let isAdmin = ConstantTimeComparison.equal(presented, token)
        let isViewer = ConstantTimeComparison.equal(presented, viewerToken)
        return isAdmin ? .admin : isViewer ? .viewer : nil
    }

    /// The visitor: with an `Authorization` header, its bearer token's role (nil when wrong); without one, a live
    /// session cookie's.
    func visitor(_ request: Request) -> Visitor? {
        let authorization = request.headers[values: .authorization]
        if !authorization.isEmpty {
            guard let presented = BearerTokenMiddleware<APIRequestContext>.bearerToken(in: authorization) else {
                return nil
            }
            return role(of: presented.utf8).map { Visitor(role: $0, session: nil) }
        }
        guard let id = AuditSessions.presentedID(in: request), let session = sessions.session(id, now: now()) else {
            return nil
        }
        return Visitor(role: session.role, session: session)
    }

    /// True with either token as bearer, or (without an `Authorization` header) a live session cookie.
    func isAuthenticated(_ request: Request) -> Bool {
        visitor(request) != nil
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
