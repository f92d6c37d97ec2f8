import Foundation
import GridcastTesting
import Testing
import Transport

@testable import Daemon

/// The audit page over plain HTTP, served by the real daemon after a day of sends with failures.
@Suite("Audit page over HTTP")
struct AuditPageHTTPTests {
    /// The `<data id="count-…" value="N">` counts of a page.
    static func counts(in page: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for match in page.matches(of: /<data id="count-([a-z_]+)" value="(\d+)">/) {
            counts[String(match.output.1)] = Int(match.output.2)
        }
        return counts
    }

    /// Every answer of the audit page carries the protective headers.
    static func expectSecurityHeaders(_ answer: HTTPResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        let policy = answer.header("content-security-policy") ?? ""
        #expect(policy.contains("default-src 'none'"), sourceLocation: sourceLocation)
        #expect(policy.contains("style-src 'unsafe-inline'"), sourceLocation: sourceLocation)
        #expect(policy.contains("img-src 'self' data:"), sourceLocation: sourceLocation)
        #expect(policy.contains("form-action 'self'"), sourceLocation: sourceLocation)
        #expect(answer.header("x-frame-options") == "DENY", sourceLocation: sourceLocation)
        #expect(answer.header("x-content-type-options") == "nosniff", sourceLocation: sourceLocation)
        #expect(answer.header("cache-control") == "no-store", sourceLocation: sourceLocation)
    }

    @Test func loginFormSetsAnHttpOnlyCookieAndLogoutEndsTheSession() async throws {
        let daemon = try await AuditDaemon.start()
        do {
            // No cookie: the login form, 200, and nothing of the ledger.
            let anonymous = try await daemon.request("GET", "/")
            #expect(anonymous.status == 200)
            #expect(anonymous.header("content-type") == "text/html; charset=utf-8")
            #expect(anonymous.bodyText.contains(#"<form id="login" method="post" action="/login""#))
            #expect(!anonymous.bodyText.contains("count-sent"))
            #expect(!anonymous.bodyText.contains("<script"))
            Self.expectSecurityHeaders(anonymous)

            // A cookie that is no session: the login form again.
            let forged = try await daemon.request(
                "GET", "/", cookie: "gridcast_session=\(String(repeating: "a", count: 64))")
            #expect(forged.bodyText.contains(#"<form id="login""#))
            let tokenAsCookie = try await daemon.request("GET", "/", cookie: "gridcast_session=\(AuditDaemon.token)")
            #expect(tokenAsCookie.bodyText.contains(#"<form id="login""#))

            // The wrong token: 401, the form with a Chinese and English error, no cookie, nothing echoed.
            let wrongToken = "audit-page-token-5b1e9c7d3a2f4e61"
            let wrong = try await daemon.request("POST", "/login", form: "token=\(wrongToken)")
            #expect(wrong.status == 401)
            #expect(wrong.bodyText.contains("令牌错误"))
            #expect(wrong.bodyText.contains("Wrong token"))
            #expect(wrong.bodyText.contains(#"<form id="login""#))
            #expect(wrong.header("set-cookie") == nil)
            #expect(!wrong.bodyText.contains(wrongToken))
            Self.expectSecurityHeaders(wrong)
            let empty = try await daemon.request("POST", "/login", form: "")
            #expect(empty.status == 401)

            // The right token: 303 to the page, a session cookie that is HttpOnly, SameSite=Strict, Path=/.
            let right = try await daemon.request("POST", "/login", form: "token=\(AuditDaemon.token)")
            #expect(right.status == 303)
            #expect(right.header("location") == "/")
            let setCookie = try #require(right.header("set-cookie"))
            let attributes = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(attributes.contains("HttpOnly"))
            #expect(attributes.contains("SameSite=Strict"))
            #expect(attributes.contains("Path=/"))
            #expect(!setCookie.contains(AuditDaemon.token))
            let cookie = try #require(attributes.first)
            #expect(cookie.hasPrefix("gridcast_session="))

            // With the cookie: the page, and /login goes on to it; the API itself still wants the bearer token.
            let page = try await daemon.request("GET", "/", cookie: cookie)
            #expect(page.status == 200)
            #expect(page.bodyText.contains(#"id="count-sent""#))
            #expect(!page.bodyText.contains(AuditDaemon.token))
            Self.expectSecurityHeaders(page)
            #expect(try await daemon.request("GET", "/login", cookie: cookie).status == 303)
            #expect(try await daemon.request("GET", "/v1/reports/daily", cookie: cookie).status == 401)
            #expect(try await daemon.request("GET", "/?date=2026-02-30", cookie: cookie).status == 400)

            // Logout (with the session's CSRF token, as the page's form sends it): the cookie is cleared and the
            // session ends on the server too.
            let csrf = try await daemon.csrfToken(cookie: cookie)
            #expect(try await daemon.request("POST", "/logout", cookie: cookie).status == 403, "no other page logs out")
            let logout = try await daemon.request("POST", "/logout", cookie: cookie, form: "csrf=\(csrf)")
            #expect(logout.status == 303)
            #expect(logout.header("location") == "/login?logged_out=1")
            #expect(logout.header("set-cookie")?.contains("Max-Age=0") == true)
            let after = try await daemon.request("GET", "/", cookie: cookie)
            #expect(after.bodyText.contains(#"<form id="login""#))
            #expect(try await daemon.request("GET", "/audit/report.csv", cookie: cookie).status == 401)
        } catch {
            try await daemon.stop()
            throw error
        }
        let result = try await daemon.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("audit login refused"))
        #expect(!result.stderr.contains(AuditDaemon.token), "the token never reaches the log")
    }

    @Test func pageShowsTheCountsOfReportDailyAndEscapesLedgerStrings() async throws {
        let daemon = try await AuditDaemon.start()
        do {
            let report = try await daemon.dailyReport()
            let date = try #require(report["date"] as? String)
            let cookie = try await daemon.login()
            let answer = try await daemon.request("GET", "/?date=\(date)", cookie: cookie)
            #expect(answer.status == 200)
            #expect(!answer.truncated)
            let page = answer.bodyText

            // The same numbers as `gridcast report daily --format json`, and faults really happened.
            let counts = Self.counts(in: page)
            for key in ["notices", "groups", "deliveries", "sent", "dead", "in_doubt", "pending", "retry"] {
                #expect(counts[key] == report[key] as? Int, "count \(key)")
            }
            #expect(counts["deliveries"] == AuditDaemon.plannedDeliveries)
            #expect(counts["dead"] == 3)
            #expect(counts["in_doubt"] == 1)
            // The Chinese summary is the last line of the table format.
            let table = try await daemon.cli(["report", "daily", "--date", date])
            let summary = try #require(table.split(separator: "\n").last.map(String.init))
            #expect(page.contains(#"<p class="summary" id="summary">\#(AuditHTML.escape(summary))</p>"#))
            #expect(summary.contains("共发布"))

            // Ledger strings are escaped: the title and the group name arrive as text, never as markup.
            #expect(page.contains("&lt;script&gt;x&lt;/script&gt;"))
            #expect(!page.contains(AuditDaemon.scriptTitle))
            #expect(!page.lowercased().contains("<script"))
            #expect(page.contains(AuditHTML.escape(AuditDaemon.htmlGroupName)))
            #expect(!page.contains(AuditDaemon.htmlGroupName))
            #expect(page.contains("警惕“安全账户” &amp; 刷单"))

            // The grid: 2 notices × 8 groups + 1 notice × 4 groups; the other 4 cells are empty.
            #expect(page.matches(of: /<td class="s-(sent|dead|in_doubt)"/).count == AuditDaemon.plannedDeliveries)
            #expect(page.matches(of: /<td class="s-none"/).count == 4)
            #expect(!page.contains(#"id="grid-truncated""#))

            // The dead and in-doubt lists, each failure with its (escaped) reason, as `ledger list` has them.
            let failures = try #require(report["failures"] as? [[String: Any]])
            #expect(failures.count == 4)
            for failure in failures {
                let reason = try #require(failure["reason"] as? String)
                #expect(!reason.isEmpty)
                #expect(page.contains(AuditHTML.escape(reason)), "reason of \(failure["group_id"] ?? "")")
            }
            #expect(page.contains(#"<table class="list" id="dead-list">"#))
            #expect(page.contains(#"<table class="list" id="in-doubt-list">"#))

            // The chart: 30 bars, the last one today's with the day's counts, the others empty (a new ledger).
            let bars = page.matches(
                of: /<g class="bar( current)?" data-date="([0-9-]+)" data-deliveries="(\d+)" data-sent="(\d+)"/)
            #expect(bars.count == 30)
            #expect(bars.last?.output.2 == Substring(date))
            #expect(bars.last.map { Int($0.output.3) } == report["deliveries"] as? Int)
            #expect(bars.last.map { Int($0.output.4) } == report["sent"] as? Int)
            #expect(bars.dropLast().allSatisfy { $0.output.3 == "0" })
            #expect(page.contains("<svg id=\"chart\""))

            // The download links.
            #expect(page.contains(#"href="/audit/report.csv?date=\#(date)""#))
            #expect(page.contains(#"href="/audit/ledger.csv?date=\#(date)""#))
        } catch {
            try await daemon.stop()
            throw error
        }
        try await daemon.stop()
    }

    @Test func csvDownloadsNeedTheCookieOrTheTokenAndMatchTheCLI() async throws {
        let daemon = try await AuditDaemon.start()
        do {
            let date = try #require(try await daemon.dailyReport()["date"] as? String)
            let report = "/audit/report.csv?date=\(date)"
            let ledger = "/audit/ledger.csv?date=\(date)"
            for path in [report, ledger] {
                let anonymous = try await daemon.request("GET", path)
                #expect(anonymous.status == 401, "\(path)")
                #expect(anonymous.header("www-authenticate")?.hasPrefix("Bearer") == true)
                #expect(!anonymous.bodyText.contains(date + ","))
                let wrong = try await daemon.request("GET", path, bearer: "audit-page-token-wrong-wrong-wrong")
                #expect(wrong.status == 401)
                let forged = try await daemon.request(
                    "GET", path, cookie: "gridcast_session=\(String(repeating: "0", count: 64))")
                #expect(forged.status == 401)
            }
            let cookie = try await daemon.login()
            let expectedReport = try await daemon.cli([
                "report", "daily", "--date", date, "--format", "csv", "--no-bom",
            ])
            let expectedLedger = try await daemon.cli(["ledger", "list", "--date", date, "--format", "csv", "--no-bom"])
            for (path, expected) in [(report, expectedReport), (ledger, expectedLedger)] {
                for answer in [
                    try await daemon.request("GET", path, cookie: cookie),
                    try await daemon.request("GET", path, bearer: AuditDaemon.token),
                ] {
                    #expect(answer.status == 200)
                    #expect(answer.header("content-type") == "text/csv; charset=utf-8")
                    #expect(answer.header("content-disposition")?.hasPrefix("attachment; filename=\"gridcast-") == true)
                    // The CLI's CSV behind the UTF-8 byte order mark, so Excel shows the names, not mojibake.
                    #expect(answer.body == [0xEF, 0xBB, 0xBF] + Array(expected.utf8), "\(path)")
                }
            }
            #expect(expectedLedger.split(separator: "\n").count == AuditDaemon.plannedDeliveries + 1)
            #expect(try await daemon.request("GET", "/audit/report.csv?date=yesterday", cookie: cookie).status == 400)
        } catch {
            try await daemon.stop()
            throw error
        }
        try await daemon.stop()
    }
}
