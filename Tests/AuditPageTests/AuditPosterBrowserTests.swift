import Foundation
import GridcastTesting
import Testing
import Transport

/// The audit page shows each notice's recorded poster as a thumbnail and its card as a link, in headless Chromium:
/// the image the browser loads is the one the ledger holds (docs/rich-notices.md).
@Suite("Audit page posters and cards in headless Chromium")
struct AuditPosterBrowserTests {
    struct Seen: Decodable {
        struct Thumbnail: Decodable {
            var notice: String
            var width: Int
            var height: Int
        }
        struct Card: Decodable {
            var href: String
            var text: String
        }
        var thumbnails: [Thumbnail]
        var cards: [Card]
    }

    static let walk = #"""
        def walk(tab, env, report):
            tab.navigate(env["AUDIT_BASE"] + "/")
            tab.type_into("#token", env["AUDIT_VIEWER_TOKEN"])
            tab.click("form#login button[type=submit]")
            tab.navigate(env["AUDIT_BASE"] + "/?date=" + env["AUDIT_DATE"])
            report.update(tab.evaluate("""(() => ({
                thumbnails: [...document.querySelectorAll('#grid th.notice a.poster img')].map(img => ({
                    notice: img.closest('th').title, width: img.naturalWidth, height: img.naturalHeight})),
                cards: [...document.querySelectorAll('#grid th.notice a.card')].map(a => ({
                    href: a.getAttribute('href'), text: a.innerText}))
            }))()"""))


        if __name__ == "__main__":
            sys.exit(run_walk(walk))
        """#

    @Test func theViewerSeesTheRecordedPosterAndTheCard() async throws {
        guard let chromium = AuditPageBrowserTests.chromium() else {
            Issue.record(
                "chromium not found on PATH: run scripts/test.sh (it installs Debian's chromium) or set CHROMIUM")
            return
        }
        // A bundled poster (750×1050), as a worker would send it.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let poster = try Data(contentsOf: root.appendingPathComponent("config/notices/posters/96110.png"))
        let daemon = try await AuditDaemon.start()
        let work = try TemporaryDirectory("audit-poster-browser")
        defer { work.remove() }
        do {
            let body = """
                {"id": "poster-card", "title": "96110", "text": "96110来电请接听", "to": "all", "urgent": true,
                 "image": {"content_type": "image/png", "data": "\(poster.base64EncodedString())"},
                 "link": {"url": "https://example.org/96110", "title": "认识96110"}}
                """
            let posted = try await daemon.request("POST", "/v1/notices", bearer: AuditDaemon.token, body: body)
            #expect(posted.status == 202, "\(posted.bodyText)")
            let date = try #require(try await daemon.dailyReport()["date"] as? String)
            try await waitUntil { try await daemon.deliveries(of: "poster-card").count > 0 }
            let script = try work.write("audit_posters.py", AuditBrowserScript.driver + "\n\n\n" + Self.walk)
            let run = try await ScriptRun.python(
                script,
                environment: [
                    "AUDIT_BASE": daemon.base, "AUDIT_VIEWER_TOKEN": AuditDaemon.viewerToken, "AUDIT_DATE": date,
                    "AUDIT_CHROMIUM": chromium, "AUDIT_PROFILE": work.path,
                ]
            )
            #expect(run.status == 0, "browser script failed: \(run.stderr)")
            let seen = try JSONDecoder().decode(Seen.self, from: Data(run.stdout.utf8))
            #expect(seen.thumbnails.map(\.notice) == ["poster-card"], "only the notice with a poster")
            #expect(seen.thumbnails.first.map { ($0.width, $0.height) } ?? (0, 0) == (750, 1050), "the image loaded")
            #expect(seen.cards.map(\.href) == ["https://example.org/96110"])
            #expect(seen.cards.first?.text.contains("认识96110") == true)
        } catch {
            try await daemon.stop()
            throw error
        }
        try await daemon.stop()
    }
}
