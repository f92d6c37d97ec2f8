import Foundation
import GridcastCore
import GridcastTesting
import Hummingbird
import Ledger
import Reports
import Testing

@testable import Daemon

/// The audit page's parts on their own: escaping, the grid's caps, the chart, the login form and sessions.
@Suite("Audit page parts")
struct AuditRenderingTests {
    static let day = LocalDay(parsing: "2026-11-28", timeZone: TimeZone(identifier: "Asia/Shanghai")!)!

    static func record(
        notice: String, group: String, state: DeliveryState, error: String? = nil, on day: LocalDay = day,
        at seconds: TimeInterval = 36_000
    ) -> DeliveryRecord {
        let at = day.start.addingTimeInterval(seconds)
        return DeliveryRecord(
            id: "\(notice)|\(group)", noticeID: notice, noticeTitle: "标题 \(notice)", groupID: group,
            groupName: "群 \(group)", sink: "wecom", state: state, attempts: 1, partsTotal: 1,
            partsSent: state == .sent ? 1 : 0, plannedAt: at, firstAttemptAt: at, lastAttemptAt: at,
            sentAt: state == .sent ? at : nil, updatedAt: at, nextAt: nil, leaseOwner: nil, leaseUntil: nil,
            lastError: error
        )
    }

    @Test func escapingCoversMarkupAndQuotes() {
        #expect(
            AuditHTML.escape(#"<a href="x" title='y'>&amp;</a>"#)
                == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;")
        #expect(AuditHTML.escape("网格群１") == "网格群１")
        #expect(AuditHTML.label("今日投递", "Deliveries today") == "今日投递 <small>Deliveries today</small>")
    }

    /// A day bigger than the page: the snapshot reads the grid's groups and a list's worth of failures, and its
    /// counts and totals are still the whole day's.
    @Test func aDayLargerThanThePageIsReadOnlyAsFarAsItShows() async throws {
        let directory = try TemporaryDirectory("audit-large-day")
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        let at = Self.day.start.addingTimeInterval(36_000)
        let groups = AuditGrid.maxGroups + 600
        _ = try await store.plan(
            Plan(
                notice: Notice(id: "n1", title: "标题", text: "不转账"), selector: "all", origin: "test",
                targets: (0..<groups).map {
                    PlanTarget(groupID: String(format: "g%04d", $0), groupName: "群\($0)", sink: "wecom")
                }, now: at))
        let claims = try await store.claim(
            ClaimRequest(
                owner: "w", limit: groups, noticeID: "n1", now: at, timeout: .seconds(15), leaseMargin: .seconds(30)))
        _ = try await store.settle(
            claims.enumerated().map { index, claim in
                DeliveryOutcome(
                    claim: claim, result: index % 3 == 0 ? .sent : .dead, partsSent: index % 3 == 0 ? 1 : 0,
                    error: index % 3 == 0 ? nil : "errcode 93000", at: at)
            }, claiming: nil)
        let snapshot = try await AuditSnapshot.load(day: Self.day, store: store, now: at)
        #expect(snapshot.report.deliveries == groups && snapshot.report.dead == groups - (groups + 2) / 3)
        #expect(snapshot.grid.columns.count == AuditGrid.maxGroups && snapshot.grid.totalGroups == groups)
        #expect(snapshot.grid.rows.count == 1 && snapshot.grid.isTruncated)
        #expect(snapshot.dead.count == min(AuditSnapshot.maxListed, snapshot.report.dead))
        let html = AuditFailureList(
            rows: snapshot.dead, kind: .dead, total: snapshot.report.dead, csrfToken: nil, day: Self.day
        ).html
        #expect(html.contains("(\(snapshot.report.dead))</h2>"))
    }

    @Test func gridIsCappedAndSaysSo() {
        let records = (0..<7).flatMap { notice in
            (0..<5).map { group in
                Self.record(notice: "n\(notice)", group: "g\(group)", state: group == 0 ? .dead : .sent)
            }
        }
        let full = AuditGrid(records: records)
        #expect(full.rows.count == 7 && full.columns.count == 5 && !full.isTruncated)
        #expect(full.rows[0].cells[0]?.state == .dead)
        let capped = AuditGrid(records: records, maxNotices: 3, maxGroups: 2)
        #expect(capped.rows.map(\.noticeID) == ["n0", "n1", "n2"])
        #expect(capped.columns.map(\.groupID) == ["g0", "g1"])
        #expect(capped.totalNotices == 7 && capped.totalGroups == 5 && capped.isTruncated)
        #expect(capped.rows.allSatisfy { $0.cells.count == 2 })
        #expect(AuditGrid.maxNotices == 50 && AuditGrid.maxGroups == 200)
    }

    @Test func truncatedGridShowsANoteOnThePage() {
        let records = (0..<60).map { Self.record(notice: String(format: "n%02d", $0), group: "g1", state: .sent) }
        let snapshot = AuditSnapshot(
            day: Self.day, report: PeriodReport.make(day: Self.day, records: records),
            grid: AuditGrid(records: records), dead: [], inDoubt: [], series: [], generatedAt: Self.day.start
        )
        let html = AuditPageHTML(snapshot: snapshot).html
        #expect(html.contains(#"id="grid-truncated""#))
        #expect(html.contains("仅显示前 50 条信息（共 60 条）"))
        #expect(html.matches(of: /<tr><th class="notice"/).count == 50)
    }

    @Test func customerGroupStatesHaveTheirSymbolsLabelsAndTiles() {
        let states: [DeliveryState] = [.sent, .awaitingConfirmation, .quotaRefused, .notDelivered, .expired]
        let records = states.enumerated().map {
            Self.record(notice: "n1", group: "g\($0.offset)", state: $0.element)
        }
        var report = PeriodReport.make(day: Self.day, records: records)
        report.tasksCreated = 2
        let snapshot = AuditSnapshot(
            day: Self.day, report: report, grid: AuditGrid(records: records), dead: [], inDoubt: [], series: [],
            generatedAt: Self.day.start
        )
        let html = AuditPageHTML(snapshot: snapshot).html
        for (state, symbol, chinese, english) in [
            ("awaiting_confirmation", "⧗", "待网格员确认", "awaiting confirmation"),
            ("quota_refused", "⊘", "超出配额", "quota refused"), ("not_delivered", "∅", "未送达", "not delivered"),
            ("expired", "⌛", "未确认已取消", "expired, not confirmed"),
        ] {
            #expect(html.contains("<i class=\"s-\(state)\"></i>\(chinese) <small>\(english)</small>"), "\(state)")
            #expect(html.contains("class=\"s-\(state)\" title=\""), "\(state)")
            #expect(html.contains(">\(symbol)</td>"), "\(state)")
            #expect(html.contains("id=\"count-\(state)\" value=\"1\""), "\(state)")
        }
        #expect(html.contains(#"id="count-tasks_created" value="2""#))
        #expect(html.contains("待网格员确认 1 次"), "the summary line counts those waiting apart")
        // A day without customer groups shows no task tiles.
        let plain = [Self.record(notice: "n1", group: "g1", state: .sent)]
        let webhookOnly = AuditSnapshot(
            day: Self.day, report: PeriodReport.make(day: Self.day, records: plain), grid: AuditGrid(records: plain),
            dead: [], inDoubt: [], series: [], generatedAt: Self.day.start)
        #expect(!AuditPageHTML(snapshot: webhookOnly).html.contains("count-tasks_created"))
    }

    @Test func chartHasOneBarPerDayScaledToARoundMaximum() throws {
        #expect([0, 1, 2, 3, 7, 10, 11, 450].map(AuditChart.axisMaximum) == [1, 1, 2, 5, 10, 10, 20, 500])
        // Day i of 30 has i deliveries: half sent, one dead on every third day, the rest planned.
        let days = (0..<30).map { Self.day.adding(days: $0 - 29) }
        let records = days.enumerated().flatMap { index, day in
            (0..<index).map { number in
                let state: DeliveryState =
                    number < index / 2 ? .sent : (number == index / 2 && index % 3 == 0 ? .dead : .planned)
                return Self.record(notice: "n\(index)", group: "g\(number)", state: state, on: day)
            }
        }
        let series = PeriodReport.make(.month, asked: Self.day, days: days, records: records).byDay
        #expect(series.map(\.deliveries) == Array(0..<30))
        let svg = AuditChart(days: series).svg
        #expect(svg.hasPrefix("<svg id=\"chart\""))
        #expect(svg.matches(of: /<g class="bar/).count == 30)
        #expect(svg.contains(#"<g class="bar current" data-date="2026-11-28" data-deliveries="29""#))
        // The last day: 29 deliveries on a 0–50 axis, 14 sent and 15 not settled, none dead.
        let last = try #require(svg.split(separator: "<g ").last)
        #expect(last.contains(#"<rect class="sent""#) && last.contains(#"<rect class="other""#))
        #expect(!last.contains(#"<rect class="dead""#))
        #expect(!svg.contains("<script"))
    }

    @Test func loginFormReadsTheTokenField() {
        #expect(AuditLoginForm(body: Array("token=abc%2Bdef+ghi%0A".utf8)).token == "abc+def ghi")
        #expect(AuditLoginForm(body: Array("other=1&token=t%26k".utf8)).token == "t&k")
        #expect(AuditLoginForm(body: Array("tokens=1".utf8)).token.isEmpty)
        #expect(AuditLoginForm(body: Array("token=%ZZ".utf8)).token.isEmpty)
    }

    @Test func sessionsExpireCloseAndStayBounded() {
        let sessions = AuditSessions()
        let now = Date(timeIntervalSince1970: 1_795_831_200)
        let id = sessions.open(now: now)
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        #expect(sessions.isValid(id, now: now))
        #expect(!sessions.isValid(String(id.dropLast()) + (id.last == "0" ? "1" : "0"), now: now))
        #expect(!sessions.isValid(id, now: now.addingTimeInterval(AuditSessions.lifetime + 1)))
        sessions.close(id)
        #expect(!sessions.isValid(id, now: now))
        let first = sessions.open(now: now)
        for _ in 0..<AuditSessions.capacity { _ = sessions.open(now: now) }
        #expect(!sessions.isValid(first, now: now), "the oldest session makes room")
        let cookie = AuditSessions.cookie(for: id).description
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        #expect(!cookie.contains("Secure"))
    }

    @Test func loginPageNeverHoldsAToken() {
        for notice in [AuditLoginPage.Notice.none, .wrongToken, .loggedOut] {
            let html = AuditLoginPage.html(notice: notice)
            #expect(html.contains(#"<input id="token" name="token" type="password" required autofocus>"#))
            #expect(!html.contains("value="))
        }
    }

    @Test func gridShowsTheNewestNoticesFirst() {
        // Ids against time: "a-late" is the newest, "z-early" the oldest.
        let records = [
            Self.record(notice: "z-early", group: "g1", state: .sent, at: 30_000),
            Self.record(notice: "a-late", group: "g1", state: .sent, at: 50_000),
            Self.record(notice: "m-noon", group: "g1", state: .dead, at: 43_200),
            Self.record(notice: "m-noon", group: "g2", state: .sent, at: 43_200),
        ]
        #expect(AuditGrid(records: records).rows.map(\.noticeID) == ["a-late", "m-noon", "z-early"])
        #expect(AuditGrid(records: records, maxNotices: 2).rows.map(\.noticeID) == ["a-late", "m-noon"])
        let snapshot = AuditSnapshot(
            day: Self.day, report: PeriodReport.make(day: Self.day, records: records),
            grid: AuditGrid(records: records), dead: [], inDoubt: [], series: [], generatedAt: Self.day.start
        )
        let titles = AuditPageHTML(snapshot: snapshot).html.matches(
            of: /<th class="notice" scope="row" title="([^"]+)"/)
        #expect(titles.map { String($0.output.1) } == ["a-late", "m-noon", "z-early"])
    }

    @Test func failureListsGiveChineseReasonsAndFormsOnlyToTheAdmin() {
        let dead = [Self.record(notice: "n1", group: "g1", state: .dead, error: "errcode 93000: invalid webhook url")]
        var doubt = Self.record(notice: "n1", group: "g2", state: .inDoubt, error: "outcome unknown: curl 28 timeout")
        doubt.lastAttemptAt = Self.day.start.addingTimeInterval(36_000)
        doubt.updatedAt = Self.day.start.addingTimeInterval(36_015)
        let records = dead + [doubt]
        let snapshot = AuditSnapshot(
            day: Self.day, report: PeriodReport.make(day: Self.day, records: records),
            grid: AuditGrid(records: records), dead: dead, inDoubt: [doubt], series: [], generatedAt: Self.day.start
        )
        let csrf = String(repeating: "c", count: 64)
        let admin = AuditPageHTML(snapshot: snapshot, access: .init(role: .admin, csrfToken: csrf)).html
        let viewer = AuditPageHTML(snapshot: snapshot, access: .init(role: .viewer, csrfToken: csrf)).html
        let bearer = AuditPageHTML(snapshot: snapshot, access: .init(role: .admin, csrfToken: nil)).html
        for html in [admin, viewer, bearer] {
            #expect(html.contains(#"<span class="zh">机器人地址无效</span>"#))
            #expect(html.contains(#"<span class="zh">结果未知（超时）</span>"#))
            #expect(html.contains("errcode 93000: invalid webhook url"), "the stored reason stays, smaller")
            // 10:00:00 to 10:00:15 in Shanghai: where to look in the chat.
            #expect(
                html.contains(
                    #"<time class="from" datetime="2026-11-28 10:00:00+08:00">2026-11-28 10:00:00+08:00</time>"#))
            #expect(html.contains(#"<time class="to" datetime="2026-11-28 10:00:15+08:00">"#))
        }
        #expect(admin.contains(#"<form class="action" id="dead-list-action-0" method="post" action="/audit/retry">"#))
        #expect(admin.contains(#"action="/audit/resolve""#))
        #expect(admin.contains(#"<input type="hidden" name="csrf" value="\#(csrf)">"#))
        #expect(admin.contains(#"name="group" value="g1" form="dead-list-action-0" checked"#))
        for html in [viewer, bearer] {
            #expect(!html.contains("/audit/retry") && !html.contains("/audit/resolve"))
            #expect(!html.contains(#"type="checkbox""#))
        }
        #expect(viewer.contains(#"data-role="viewer""#) && admin.contains(#"data-role="admin""#))
        #expect(!bearer.contains(#"name="csrf""#), "no session, no token")
    }

    @Test func actionFormsAreReadStrictly() throws {
        let form = AuditForm(
            body: Array("csrf=t&notice=n1&group=g1&group=g2&group=g1&note=%E6%9F%A5+%0Aok&confirm=yes".utf8))
        #expect(form.values("group") == ["g1", "g2", "g1"])
        let retry = try AuditActionRequest(form: form, resolving: false)
        #expect(retry.kind == .retry && retry.groupIDs == ["g1", "g2"] && retry.confirmed)
        #expect(retry.note == "查 ok")
        #expect(throws: AuditActionRequest.Problem.badResolution) {
            try AuditActionRequest(form: form, resolving: true)
        }
        let resolve = try AuditActionRequest(
            form: AuditForm(body: Array("notice=n1&group=g1&as=resend".utf8)), resolving: true)
        #expect(resolve.kind == .resolve(.resend) && !resolve.confirmed)
        #expect(throws: AuditActionRequest.Problem.noGroups) {
            try AuditActionRequest(form: AuditForm(body: Array("notice=n1&group=".utf8)), resolving: false)
        }
        #expect(throws: AuditActionRequest.Problem.missingNotice) {
            try AuditActionRequest(form: AuditForm(body: Array("group=g1".utf8)), resolving: false)
        }
        let long = "notice=n1&group=g1&note=" + String(repeating: "x", count: AuditActionRequest.maxNoteLength + 1)
        #expect(throws: AuditActionRequest.Problem.noteTooLong) {
            try AuditActionRequest(form: AuditForm(body: Array(long.utf8)), resolving: false)
        }
        #expect(AuditActionDone(done: "retry", count: "3")?.location == "/?done=retry&count=3")
        #expect(AuditActionDone(done: "<script>", count: "3") == nil)
        #expect(AuditActionDone(done: "sent", count: "x") == nil)
    }

    @Test func sessionsCarryTheirRoleAndTheirOwnCSRFToken() {
        let sessions = AuditSessions()
        let now = Date(timeIntervalSince1970: 1_795_831_200)
        let admin = sessions.open(now: now, role: .admin)
        let viewer = sessions.open(now: now, role: .viewer)
        let adminSession = sessions.session(admin, now: now)
        let viewerSession = sessions.session(viewer, now: now)
        #expect(adminSession?.role == .admin && viewerSession?.role == .viewer)
        #expect(adminSession?.csrfToken.count == 64 && adminSession?.csrfToken != viewerSession?.csrfToken)
        #expect(adminSession?.csrfToken != admin, "the CSRF token is not the session id")
        #expect(AuditRole.admin.actor == "page:admin")
    }
}
