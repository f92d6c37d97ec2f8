import Foundation
import GridcastCore
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
        notice: String, group: String, state: DeliveryState, error: String? = nil, on day: LocalDay = day
    ) -> DeliveryRecord {
        let at = day.start.addingTimeInterval(36_000)
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
}
