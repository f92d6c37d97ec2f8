import Foundation
import GridcastTesting
import Ledger
import Testing

/// The audit page's actions in headless Chromium: the admin retries a dead delivery and settles several in_doubt
/// ones through the confirmation step, the ledger records it, and the viewer sees the same page without forms.
@Suite("Audit page actions in headless Chromium")
struct AuditActionBrowserTests {
    /// What the browser saw, as the script reports it.
    struct Seen: Decodable {
        struct Contrast: Decodable {
            var text: String
            var ratio: Double
        }
        struct Window: Decodable {
            var group: String
            var name: String
            var from: String
            var to: String
        }
        struct Page: Decodable {
            var path: String
            var role: String
            var done: String
            var actionForms: Int
            var checkboxes: Int
            var gridNotices: [String]
            var deadReasons: [String]
            var inDoubtReasons: [String]
            var windows: [Window]
        }
        struct Confirmation: Decodable {
            struct Target: Decodable {
                var id: String
                var name: String
                var window: String
            }
            var path: String
            var question: String
            var groups: [Target]
            var note: String
        }
        var contrast: [Contrast]
        var admin: Page
        var retryConfirmation: Confirmation
        var afterRetry: Page
        var resolvedAsSent: [String]
        var resolveConfirmation: Confirmation
        var afterResolve: Page
        var resendConfirmation: Confirmation
        var afterResend: Page
        var viewer: Page
    }

    /// `2026-11-28 09:30:01+08:00`: a time in the config's zone (Asia/Shanghai) with its offset.
    static var stamp: Regex<Substring> { /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+08:00/ }

    @Test func adminRetriesAndResolvesThroughTheConfirmationAndTheViewerOnlyLooks() async throws {
        guard let chromium = AuditPageBrowserTests.chromium() else {
            Issue.record(
                "chromium not found on PATH: run scripts/test.sh (it installs Debian's chromium) or set CHROMIUM")
            return
        }
        let daemon = try await AuditDaemon.start(faults: AuditDaemon.actionFaults)
        let work = try TemporaryDirectory("audit-action-browser")
        defer { work.remove() }
        do {
            let date = try #require(try await daemon.dailyReport()["date"] as? String)
            let before = try await daemon.deliveries(of: "audit-1")
            #expect(before["g0001"]?.state == .dead)
            let doubtful = before.values.filter { $0.state == .inDoubt }.map(\.groupID).sorted()
            #expect(doubtful == ["g0002", "g0003", "g0004"])
            let script = try work.write("audit_actions.py", AuditActionBrowserScript.source)
            let run = try await ScriptRun.python(
                script,
                environment: [
                    "AUDIT_BASE": daemon.base, "AUDIT_TOKEN": AuditDaemon.token,
                    "AUDIT_VIEWER_TOKEN": AuditDaemon.viewerToken, "AUDIT_DATE": date, "AUDIT_NOTICE": "audit-1",
                    "AUDIT_KEEP": "g0003", "AUDIT_CHROMIUM": chromium, "AUDIT_PROFILE": work.path,
                ]
            )
            #expect(run.status == 0, "browser script failed: \(run.stderr)")
            let seen = try JSONDecoder().decode(Seen.self, from: Data(run.stdout.utf8))

            // The login button's label, Chinese and English, reads at WCAG AA (4.5:1) on its background.
            #expect(seen.contrast.count >= 2)
            for label in seen.contrast { #expect(label.ratio >= 4.5, "\(label.text): \(label.ratio)") }

            // The admin's page: forms, notices newest first, reasons in Chinese, a time window per in_doubt row.
            let admin = seen.admin
            #expect(admin.role == "admin")
            #expect(admin.actionForms >= 2)
            #expect(admin.gridNotices == ["audit-3", "audit-2", "audit-1"], "newest first")
            #expect(admin.deadReasons == ["机器人地址无效", "机器人地址无效"])
            #expect(admin.inDoubtReasons.count == 8 && admin.inDoubtReasons.allSatisfy { $0 == "结果未知（平台返回 HTTP 502）" })
            let window = try #require(admin.windows.first { $0.group == "g0002" })
            #expect(window.name.contains("网格群2"))
            #expect(window.from.wholeMatch(of: Self.stamp) != nil && window.to.wholeMatch(of: Self.stamp) != nil)
            #expect(window.from <= window.to)

            // Retry: the confirmation names the group before anything changes; then the page says it was done.
            let retry = seen.retryConfirmation
            #expect(retry.groups.map(\.id) == ["g0001"] && retry.groups.first?.name == "网格群1")
            #expect(retry.question.contains("1 个群"))
            #expect(retry.note == "机器人已重新加入")
            #expect(seen.afterRetry.done.contains("已将 1 个失败投递重新排入发送"))

            // Resolve as sent: every ticked group listed with its window, then changed together.
            let settled = seen.resolvedAsSent
            #expect(settled == ["g0002", "g0004"])
            let resolve = seen.resolveConfirmation
            #expect(resolve.groups.map(\.id) == settled)
            #expect(resolve.groups.map(\.name) == ["网格群2", "网格群4"])
            #expect(resolve.groups.allSatisfy { $0.window.contains("+08:00 至 ") })
            #expect(seen.afterResolve.done.contains("已将 2 个待核实投递记为已发送"))
            #expect(seen.resendConfirmation.groups.map(\.id) == ["g0003"])
            #expect(seen.afterResend.done.contains("已将 1 个待核实投递重新排入发送"))

            // The ledger: the same rows changed, each recording who and why.
            let after = try await daemon.deliveries(of: "audit-1")
            for group in settled {
                #expect(after[group]?.state == .sent)
                #expect(after[group]?.lastError == "resolved as sent by page:admin: 已在群里看到")
            }
            try await waitUntil {
                let rows = try await daemon.deliveries(of: "audit-1")
                return rows["g0001"]?.state == .sent && rows["g0003"]?.state == .sent
            }
            let resolves = try await AuditActionHTTPTests.operatorEvents(daemon, kind: "resolve")
            #expect(resolves.count == 3 && resolves.allSatisfy { $0.actor == "page:admin" })
            #expect(resolves.filter { $0.payload.contains("resolved as sent by page:admin: 已在群里看到") }.count == 2)
            #expect(resolves.contains { $0.payload.contains("resolved as resend by page:admin: 群里没有") })
            let retries = try await AuditActionHTTPTests.operatorEvents(daemon, kind: "retry")
            #expect(retries.map(\.actor) == ["page:admin"])
            #expect(retries.first?.payload.contains("retried by page:admin: 机器人已重新加入") == true)
            // Other notices' deliveries were not touched.
            #expect(try await daemon.deliveries(of: "audit-2")["g0001"]?.state == .dead)
            #expect(try await daemon.deliveries(of: "audit-2")["g0002"]?.state == .inDoubt)

            // The viewer: the same page without a form or a checkbox, reasons in Chinese.
            let viewer = seen.viewer
            #expect(viewer.role == "viewer")
            #expect(viewer.actionForms == 0 && viewer.checkboxes == 0)
            #expect(viewer.gridNotices == admin.gridNotices)
            #expect(viewer.deadReasons == ["机器人地址无效"])
        } catch {
            try await daemon.stop()
            throw error
        }
        try await daemon.stop()
    }
}
