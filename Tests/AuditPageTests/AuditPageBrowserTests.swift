import Foundation
import GridcastTesting
import Testing

/// The audit page in a real headless Chromium (Debian's `chromium`, installed by `scripts/test.sh`), driven over
/// the DevTools protocol by a standard-library Python script: load the page, log in through the form, read the
/// rendered counts and the chart, save a screenshot under `.build/test-artifacts/`, log out.
@Suite("Audit page in headless Chromium")
struct AuditPageBrowserTests {
    /// What the browser saw, as the script reports it.
    struct Seen: Decodable {
        struct LoginState: Decodable {
            var path: String
            var form: Bool
            var error: String
            var tokenFieldValue: String
        }
        struct AfterLogin: Decodable {
            var path: String
            var cookie: String
            var hasCounts: Bool
        }
        struct Bar: Decodable {
            var date: String
            var deliveries: Int
            var sent: Int
            var dead: Int
            var inDoubt: Int
            var segments: Int
            var height: Double
        }
        struct Page: Decodable {
            var path: String
            var counts: [String: Int]
            var summary: String
            var bars: [Bar]
            var chartWidth: Double
            var gridCells: Int
            var deadRows: Int
            var inDoubtRows: Int
            var scripts: Int
            var cookie: String
            var text: String
        }
        var anonymous: LoginState
        var wrongToken: LoginState
        var afterLogin: AfterLogin
        var page: Page
        var afterLogout: LoginState
        var revisit: LoginState
    }

    /// Where the screenshot goes: `.build/test-artifacts/audit-page.png` in the package.
    static var screenshotPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts/audit-page.png").path
    }

    /// `$CHROMIUM`, or `chromium` / `chromium-browser` on the `PATH`.
    static func chromium() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["CHROMIUM"], FileManager.default.isExecutableFile(atPath: path) { return path }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    @Test func logsInAndShowsTheCountsAndTheChartInChromium() async throws {
        // A missing browser is a failure, not a skip: scripts/test.sh installs it.
        guard let chromium = Self.chromium() else {
            Issue.record(
                "chromium not found on PATH: run scripts/test.sh (it installs Debian's chromium) or set CHROMIUM")
            return
        }
        let daemon = try await AuditDaemon.start()
        let work = try TemporaryDirectory("audit-browser")
        defer { work.remove() }
        do {
            let report = try await daemon.dailyReport()
            let date = try #require(report["date"] as? String)
            let script = try work.write("audit_browser.py", AuditBrowserScript.source)
            try? FileManager.default.removeItem(atPath: Self.screenshotPath)
            let run = try await ScriptRun.python(
                script,
                environment: [
                    "AUDIT_BASE": daemon.base, "AUDIT_TOKEN": AuditDaemon.token,
                    "AUDIT_WRONG_TOKEN": "not-the-token-not-the-token", "AUDIT_DATE": date,
                    "AUDIT_CHROMIUM": chromium, "AUDIT_SCREENSHOT": Self.screenshotPath, "AUDIT_PROFILE": work.path,
                ]
            )
            #expect(run.status == 0, "browser script failed: \(run.stderr)")
            let seen = try JSONDecoder().decode(Seen.self, from: Data(run.stdout.utf8))

            // Without a session: the login form. The wrong token: the form again, with the bilingual error.
            #expect(seen.anonymous.form && seen.anonymous.path == "/")
            #expect(seen.wrongToken.form)
            #expect(seen.wrongToken.error.contains("令牌错误") && seen.wrongToken.error.contains("Wrong token"))
            #expect(seen.wrongToken.tokenFieldValue.isEmpty, "the typed token is not put back into the form")

            // The right token: on to the page; the session cookie is invisible to scripts (HttpOnly).
            #expect(seen.afterLogin.path == "/" && seen.afterLogin.hasCounts)
            #expect(seen.afterLogin.cookie.isEmpty)

            // The rendered counts are those of `gridcast report daily --format json`.
            let page = seen.page
            for key in ["notices", "groups", "deliveries", "sent", "dead", "in_doubt", "pending", "retry"] {
                #expect(page.counts[key] == report[key] as? Int, "count \(key)")
            }
            #expect(page.counts["dead"] == 3 && page.counts["in_doubt"] == 1)
            #expect(page.summary.hasPrefix("\(date)：共发布"))
            #expect(page.deadRows == 3 && page.inDoubtRows == 1)
            #expect(page.gridCells == 24)
            #expect(page.scripts == 0, "the notice titled <script>x</script> is text, not a script")
            #expect(page.text.contains(AuditDaemon.scriptTitle))
            #expect(page.text.contains("今日投递") || page.text.contains("当日投递"))
            #expect(!page.text.contains(AuditDaemon.token))
            #expect(page.cookie.isEmpty)

            // The chart: 30 bars, only the last (the day shown) has deliveries, drawn with visible height.
            #expect(page.bars.count == 30)
            #expect(page.chartWidth > 600)
            let today = try #require(page.bars.last)
            #expect(today.date == date)
            #expect(today.deliveries == report["deliveries"] as? Int)
            #expect(today.sent == report["sent"] as? Int)
            #expect(today.dead == 3 && today.inDoubt == 1)
            #expect(today.segments == 3, "sent, dead and in-doubt segments")
            #expect(today.height > 100)
            #expect(page.bars.dropLast().allSatisfy { $0.deliveries == 0 && $0.segments == 0 })

            // Logout: back to the login form, and the old session no longer opens the page.
            #expect(seen.afterLogout.form && seen.afterLogout.path == "/login")
            #expect(seen.revisit.form)

            // The screenshot, a real PNG.
            let png = try #require(FileManager.default.contents(atPath: Self.screenshotPath))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(png.count > 20_000)
        } catch {
            try await daemon.stop()
            throw error
        }
        try await daemon.stop()
    }
}
