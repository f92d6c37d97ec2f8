import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Logging
import Reports
import Scheduling
import Sinks
import Testing

/// `report_to`: the daemon posts the day's and the week's dispatch summary into the admin group, as a delivery.
@Suite("report_to: the admin summary")
struct AdminSummaryTests {
    let at = LocalTime()

    func load(_ reportTo: String, in directory: TemporaryDirectory) throws -> GridcastConfig {
        let groups = TestGroups.wecom(3, port: 1)
        let path = try directory.write(
            "gridcast.yaml", TestGroups.yaml(groups, ledger: directory.file("ledger.sqlite"), extra: reportTo))
        return try ConfigLoader(catalog: SinkRegistry.standard).load(path: path)
    }

    @Test func reportToBecomesADailyAndAWeeklySummarySchedule() throws {
        let directory = try TemporaryDirectory("report-to")
        defer { directory.remove() }
        let config = try load(#"report_to: {group: g0002, daily_at: "18:00", weekly_at: "fri 18:30"}"#, in: directory)
        #expect(config.schedules.map(\.id) == ["report_to.daily", "report_to.weekly"])
        #expect(config.schedules.map(\.pick) == [.summary(.daily), .summary(.weekly)])
        let friday = config.schedules[1].cron.next(after: at("2026-12-01 00:00"), in: config.timeZone)
        #expect(friday == at("2026-12-04 18:30"))
    }

    @Test(arguments: [
        (#"report_to: {group: nobody, daily_at: "18:00"}"#, "report_to.group: no group 'nobody'"),
        (#"report_to: {group: g0000, daily_at: "25:00"}"#, "report_to.daily_at: expected a time"),
        (#"report_to: {group: g0000, weekly_at: "18:00"}"#, "report_to.weekly_at: expected a weekday and a time"),
        (#"report_to: {group: g0000, weekly_at: "fry 18:00"}"#, "report_to.weekly_at: expected a weekday and a time"),
        (#"report_to: {group: g0000}"#, "report_to: give daily_at"),
        (#"report_to: {group: g0000, daily: "18:00"}"#, "unknown key 'daily'"),
    ])
    func badReportToSaysWhere(yaml: String, message: String) throws {
        let directory = try TemporaryDirectory("report-to")
        defer { directory.remove() }
        do {
            _ = try load(yaml, in: directory)
            Issue.record("accepted: \(yaml)")
        } catch let error as ConfigError {
            let problems = error.diagnostics.map(\.description)
            #expect(problems.contains { $0.contains("gridcast.yaml:10:") && $0.contains(message) }, "\(problems)")
        }
    }

    @Test func theDailySummaryIsPostedOnceAsADeliveryToTheAdminGroup() async throws {
        let directory = try TemporaryDirectory("report-to")
        defer { directory.remove() }
        let config = try load(#"report_to: {group: g0002, daily_at: "18:00", weekly_at: "fri 18:00"}"#, in: directory)
        let store = try SQLiteLedgerStore(path: config.ledger.path)
        // The day's work: one notice to two groups, one sent, one refused for good.
        let morning = at("2026-12-04 09:00")
        _ = try await store.plan(
            Plan(
                notice: Notice(id: "morning", title: "早", text: "不回拨"), selector: "all", origin: "cli",
                targets: ["g0000", "g0001"].map { PlanTarget(groupID: $0, groupName: $0, sink: "wecom") },
                now: morning
            )
        )
        let claims = try await store.claim(
            ClaimRequest(owner: "test", limit: 10, noticeID: nil, now: morning, timeout: .seconds(5)))
        _ = try await store.record(
            claims.map {
                DeliveryOutcome(
                    claim: $0, result: $0.groupID == "g0000" ? .sent : .dead, partsSent: $0.groupID == "g0000" ? 1 : 0,
                    error: $0.groupID == "g0000" ? nil : "permanent: errcode 93000 invalid webhook url", at: morning)
            }
        )
        let scheduler = Scheduler(
            config: config, sinks: .standard, store: store,
            summaries: { try await AdminSummary.notice($0, containing: $1, store: store) },
            logger: Logger(label: "test"))
        let reports = try await scheduler.fireDue(now: at("2026-12-04 18:00:02"))
        #expect(Set(reports.map(\.scheduleID)) == ["report_to.daily", "report_to.weekly"])
        #expect(reports.allSatisfy { $0.outcome == .fired && $0.deliveries == 1 })

        let daily = try #require(try await store.notice(id: "report-daily-2026-12-04"))
        #expect(daily.notice.title == "反诈信息发布日报 2026-12-04")
        #expect(
            daily.notice.text.hasPrefix("2026-12-04：共发布反诈信息 1 条，转发 1 个群，累计投递 2 次（成功 1 次，失败 1 次，待核实 0 次）"))
        #expect(daily.notice.text.contains("- g0001 ·《早》：失败，机器人地址无效"), "\(daily.notice.text)")
        #expect(daily.notice.text.contains("按轮换发布的群下次收到下一条"), "a dead delivery says the rotation moves on")
        #expect(daily.origin == "report_to:daily")
        let weekly = try #require(try await store.notice(id: "report-weekly-2026-11-30"))
        #expect(weekly.notice.title == "反诈信息发布周报 2026-11-30 至 2026-12-06")
        let deliveries = try await store.deliveries(noticeID: "report-daily-2026-12-04")
        #expect(deliveries.map(\.groupID) == ["g0002"])

        // A restart the same evening posts nothing again.
        let again = try await Scheduler(
            config: config, sinks: .standard, store: store,
            summaries: { try await AdminSummary.notice($0, containing: $1, store: store) },
            logger: Logger(label: "test")
        )
        .fireDue(now: at("2026-12-04 18:05"))
        #expect(again.isEmpty)
        #expect(try await store.deliveries(noticeID: "report-daily-2026-12-04").count == 1)
    }
}
