import Foundation
import GRDB
import GridcastTesting
import Ledger
import Testing
import Transport

@testable import Daemon

/// The audit page's actions over plain HTTP against the real daemon: what guards them (session, CSRF token, origin,
/// role) and that a refused POST changes nothing.
@Suite("Audit page actions over HTTP")
struct AuditActionHTTPTests {
    /// A form body from name-value pairs.
    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }

    /// The retry of audit-1's dead delivery to g0001, confirmed, under `csrf` (none when nil).
    static func retryForm(csrf: String?, confirm: Bool = true) -> String {
        var fields = [("notice", "audit-1"), ("group", "g0001"), ("note", "机器人已重新加入")]
        if let csrf { fields.insert(("csrf", csrf), at: 0) }
        if confirm { fields.append(("confirm", "yes")) }
        return form(fields)
    }

    /// The states and last errors of every delivery, to show that nothing changed.
    static func ledgerState(_ daemon: AuditDaemon) async throws -> [String] {
        try await daemon.ledger().deliveries(matching: DeliveryFilter()).map {
            "\($0.noticeID)|\($0.groupID)|\($0.state.rawValue)|\($0.attempts)|\($0.lastError ?? "")"
        }
    }

    @Test func actionsNeedTheAdminSessionItsCSRFTokenAndTheSameOrigin() async throws {
        let daemon = try await AuditDaemon.start(faults: AuditDaemon.actionFaults)
        do {
            let cookie = try await daemon.login()
            let csrf = try await daemon.csrfToken(cookie: cookie)
            let other = try await daemon.login()
            let otherCSRF = try await daemon.csrfToken(cookie: other)
            #expect(csrf != otherCSRF, "each session has its own token")
            #expect(try await daemon.deliveries(of: "audit-1")["g0001"]?.state == .dead)
            let before = try await Self.ledgerState(daemon)
            let origin = daemon.base

            let refused: [(String, HTTPResponse)] = [
                (
                    "no token",
                    try await daemon.request("POST", "/audit/retry", cookie: cookie, form: Self.retryForm(csrf: nil))
                ),
                (
                    "wrong token",
                    try await daemon.request(
                        "POST", "/audit/retry", cookie: cookie,
                        form: Self.retryForm(csrf: String(repeating: "0", count: 64)))
                ),
                (
                    "another session's token",
                    try await daemon.request(
                        "POST", "/audit/retry", cookie: cookie, form: Self.retryForm(csrf: otherCSRF))
                ),
                (
                    "another port's page",
                    try await daemon.request(
                        "POST", "/audit/retry", cookie: cookie, form: Self.retryForm(csrf: csrf),
                        headers: [HTTPHeader("Origin", "http://127.0.0.1:\(daemon.port + 1)")])
                ),
                (
                    "an opaque origin",
                    try await daemon.request(
                        "POST", "/audit/retry", cookie: cookie, form: Self.retryForm(csrf: csrf),
                        headers: [HTTPHeader("Origin", "null")])
                ),
                (
                    "a cross-site fetch",
                    try await daemon.request(
                        "POST", "/audit/retry", cookie: cookie, form: Self.retryForm(csrf: csrf),
                        headers: [HTTPHeader("Sec-Fetch-Site", "cross-site"), HTTPHeader("Origin", origin)])
                ),
                ("no session", try await daemon.request("POST", "/audit/retry", form: Self.retryForm(csrf: csrf))),
                (
                    "the bearer token",
                    try await daemon.request(
                        "POST", "/audit/retry", bearer: AuditDaemon.token, form: Self.retryForm(csrf: csrf))
                ),
                (
                    "resolve without a token",
                    try await daemon.request(
                        "POST", "/audit/resolve", cookie: cookie,
                        form: Self.form([("notice", "audit-1"), ("group", "g0002"), ("as", "sent"), ("confirm", "yes")])
                    )
                ),
                ("logout without a token", try await daemon.request("POST", "/logout", cookie: cookie)),
            ]
            for (label, answer) in refused {
                #expect(answer.status == 403, "\(label)")
                #expect(answer.bodyText.contains("未做任何更改"), "\(label)")
                AuditPageHTTPTests.expectSecurityHeaders(answer)
            }
            #expect(try await Self.ledgerState(daemon) == before, "no refused POST changed the ledger")
            #expect(
                try await daemon.request("GET", "/", cookie: cookie).bodyText.contains("count-sent"), "still logged in")

            // The confirmation step: the groups by name and id; nothing changes yet.
            let confirm = try await daemon.request(
                "POST", "/audit/retry", cookie: cookie, form: Self.retryForm(csrf: csrf, confirm: false),
                headers: [HTTPHeader("Origin", origin), HTTPHeader("Sec-Fetch-Site", "same-origin")])
            #expect(confirm.status == 200)
            #expect(confirm.bodyText.contains(#"<tr class="target" data-group="g0001">"#))
            #expect(confirm.bodyText.contains(#"<td class="name">网格群1</td><td class="id">g0001</td>"#))
            #expect(confirm.bodyText.contains(#"name="confirm" value="yes""#))
            #expect(confirm.bodyText.contains(#"name="csrf" value="\#(csrf)""#))
            #expect(try await Self.ledgerState(daemon) == before, "the confirmation step changes nothing")

            // A group whose delivery is not dead: 409, nothing changed.
            let mixed = try await daemon.request(
                "POST", "/audit/retry", cookie: cookie,
                form: Self.form([
                    ("csrf", csrf), ("notice", "audit-1"), ("group", "g0001"), ("group", "g0000"),
                    ("confirm", "yes"),
                ]))
            #expect(mixed.status == 409)
            #expect(mixed.bodyText.contains("g0000（sent）"))
            #expect(try await Self.ledgerState(daemon) == before)

            // The right token from the page's own origin: done, recorded as page:admin with the note.
            let done = try await daemon.request(
                "POST", "/audit/retry", cookie: cookie, form: Self.retryForm(csrf: csrf),
                headers: [HTTPHeader("Origin", origin)])
            #expect(done.status == 303)
            #expect(done.header("location") == "/?done=retry&count=1")
            let retried = try await daemon.deliveries(of: "audit-1")["g0001"]
            #expect(retried?.state == .retry || retried?.state == .claimed || retried?.state == .sent)
            try await waitUntil { try await daemon.deliveries(of: "audit-1")["g0001"]?.state == .sent }
            #expect(try await daemon.deliveries(of: "audit-2")["g0001"]?.state == .dead, "only the notice asked for")
            let page = try await daemon.request("GET", "/?done=retry&count=1", cookie: cookie).bodyText
            #expect(page.contains(#"id="action-done""#) && page.contains("已将 1 个失败投递重新排入发送"))
            let events = try await Self.operatorEvents(daemon, kind: "retry")
            #expect(events.count == 1)
            #expect(events.first?.actor == "page:admin")
            #expect(events.first?.payload.contains("retried by page:admin: 机器人已重新加入") == true)
        } catch {
            try await daemon.stop()
            throw error
        }
        let result = try await daemon.stop()
        #expect(result.stderr.contains("audit post refused"))
        #expect(!result.stderr.contains(AuditDaemon.token))
    }

    @Test func aViewerSeesEverythingAndChangesNothing() async throws {
        let daemon = try await AuditDaemon.start(faults: AuditDaemon.actionFaults)
        do {
            let date = try #require(try await daemon.dailyReport()["date"] as? String)
            let viewer = try await daemon.login(token: AuditDaemon.viewerToken)
            let page = try await daemon.request("GET", "/?date=\(date)", cookie: viewer).bodyText
            #expect(page.contains(#"data-role="viewer""#))
            #expect(page.contains(#"id="count-dead""#) && page.contains(#"id="in-doubt-list""#))
            #expect(!page.contains(#"action="/audit/"#), "no action forms")
            #expect(!page.contains(#"type="checkbox""#))
            #expect(!page.contains(AuditDaemon.viewerToken) && !page.contains(AuditDaemon.token))
            // Reasons in Chinese, as the reports give them: WeCom's errcode 93000 is an invalid bot address, the 502
            // of the in_doubt ones a server error; the stored reason stays under it.
            #expect(page.contains(#"<span class="zh">机器人地址无效</span>"#))
            #expect(page.contains(#"<span class="zh">结果未知（平台返回 HTTP 502）</span><br><small>HTTP 502"#))
            let admin = try await daemon.login()
            let adminPage = try await daemon.request("GET", "/?date=\(date)", cookie: admin).bodyText
            #expect(adminPage.contains(#"action="/audit/retry""#) && adminPage.contains(#"action="/audit/resolve""#))
            #expect(adminPage.contains(#"data-role="admin""#))

            // Downloads with the viewer's session and with the viewer token as bearer; not the /v1 API.
            for answer in [
                try await daemon.request("GET", "/audit/report.csv?date=\(date)", cookie: viewer),
                try await daemon.request("GET", "/audit/ledger.csv?date=\(date)", bearer: AuditDaemon.viewerToken),
                try await daemon.request("GET", "/?date=\(date)", bearer: AuditDaemon.viewerToken),
            ] {
                #expect(answer.status == 200)
            }
            #expect(try await daemon.request("GET", "/v1/reports/daily", bearer: AuditDaemon.viewerToken).status == 401)

            // The viewer's own, valid CSRF token: still refused.
            let csrf = try await daemon.csrfToken(cookie: viewer)
            let before = try await Self.ledgerState(daemon)
            let retry = try await daemon.request(
                "POST", "/audit/retry", cookie: viewer, form: Self.retryForm(csrf: csrf),
                headers: [HTTPHeader("Origin", daemon.base)])
            #expect(retry.status == 403)
            #expect(retry.bodyText.contains("只读账号不能修改台帐"))
            let resolve = try await daemon.request(
                "POST", "/audit/resolve", cookie: viewer,
                form: Self.form([
                    ("csrf", csrf), ("notice", "audit-1"), ("group", "g0002"), ("as", "sent"), ("confirm", "yes"),
                ]))
            #expect(resolve.status == 403)
            let preview = try await daemon.request(
                "POST", "/audit/retry", cookie: viewer, form: Self.retryForm(csrf: csrf, confirm: false))
            #expect(preview.status == 403, "not even the confirmation step")
            #expect(try await Self.ledgerState(daemon) == before)

            // The viewer logs out with its token like anyone.
            let logout = try await daemon.request("POST", "/logout", cookie: viewer, form: Self.form([("csrf", csrf)]))
            #expect(logout.status == 303)

            // The favicon a browser asks for: answered, without a token, and not logged as refused.
            let favicon = try await daemon.request("GET", "/favicon.ico")
            #expect(favicon.status == 204)
        } catch {
            try await daemon.stop()
            throw error
        }
        let result = try await daemon.stop()
        #expect(result.stderr.contains("audit login"))
        #expect(!result.stderr.contains(AuditDaemon.viewerToken), "the viewer token never reaches the log")
        let refusals = result.stderr.split(separator: "\n").filter { $0.contains("request refused") }
        #expect(!refusals.contains { $0.contains("favicon") }, "\(refusals)")
        #expect(refusals.contains { $0.contains("/v1/reports/daily") }, "a real refusal is still logged")
    }

    /// The operator events of `kind` in the ledger's event log: who, and the row image (which holds the note).
    static func operatorEvents(_ daemon: AuditDaemon, kind: String) async throws -> [(actor: String, payload: String)] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: daemon.directory.file("ledger.sqlite"), configuration: configuration)
        defer { try? queue.close() }
        return try await queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT actor, payload FROM events WHERE kind = ? ORDER BY seq", arguments: [kind]
            )
            .map { (actor: $0["actor"] as String, payload: $0["payload"] as String) }
        }
    }
}
