import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Reports
import Testing

@testable import Daemon

/// Reports, the admin summary and the listing on customer groups: what WeCom confirmed counts as sent, and only
/// that; what waits for the member, what the platform refused and what expired are counted apart and named.
@Suite("Reports on customer groups reached through mass-message tasks")
struct CustomerGroupReportTests {
    let at = LocalTime()

    /// Groups `a…` belong to member zhang, `b…` to member li, of app `ls`.
    static let key: @Sendable (String) -> TaskKey? = { group in
        group.hasPrefix("a") ? TaskKey(app: "ls", member: "zhang") : TaskKey(app: "ls", member: "li")
    }

    func plan(_ id: String, groups: [String], at now: Date) -> Plan {
        Plan(
            notice: Notice(id: id, title: "标题 \(id)", text: "不转账 \(id)", urgent: false), selector: "all",
            origin: "test",
            targets: groups.map { PlanTarget(groupID: $0, groupName: "群\($0)", sink: Group.customerGroupSink) },
            now: now)
    }

    /// One day of tasks through the store's own API, all on 2026-12-04:
    /// notice n1 to a1…a5 (zhang) and b1, b2 (li), notice n2 to a6 (zhang). WeCom reports a1 and b1 sent, a2 over
    /// quota, a3 not delivered; n2's task is cancelled at its deadline (a6 expired); a4, a5 and b2 still wait.
    func dayOfTasks(_ store: any LedgerStore) async throws {
        let morning = at("2026-12-04 09:00")
        _ = try await store.plan(plan("n1", groups: ["a1", "a2", "a3", "a4", "a5", "b1", "b2"], at: morning))
        _ = try await store.plan(plan("n2", groups: ["a6"], at: morning))
        var request = TaskClaimRequest(
            sink: Group.customerGroupSink, leaseOwner: "host:1:1", now: morning, lease: .seconds(60),
            batchSize: 2000, key: Self.key)
        request.batches = 3
        let claims = try await store.claimTaskBatches(request)
        #expect(claims.count == 3)
        var ids: [String: String] = [:]
        for (index, claim) in claims.enumerated() {
            for delivery in claim.deliveries { ids[delivery.groupID] = delivery.id }
            var created = TaskUpdate()
            created.created = ("msg-\(index)", morning.addingTimeInterval(3600))
            created.nextAt = morning.addingTimeInterval(60)
            #expect(try await store.recordTask(claim.handle, created, at: morning))
        }
        let noon = at("2026-12-04 12:00")
        let open = try await store.claimDueTasks(leaseOwner: "host:1:1", now: noon, lease: .seconds(60), limit: 10)
        #expect(open.count == 3)
        for task in open {
            var update = TaskUpdate()
            update.nextAt = noon.addingTimeInterval(600)
            let groups = Set(task.waiting.map(\.groupID))
            if groups.contains("a6") {
                update.cancelled = true
                update.results = [ids["a6"]!: .expired]
            } else if groups.contains("a1") {
                update.results = [
                    ids["a1"]!: .sent(at: at("2026-12-04 10:30")), ids["a2"]!: .quotaRefused,
                    ids["a3"]!: .notDelivered,
                ]
            } else {
                update.results = [ids["b1"]!: .sent(at: at("2026-12-04 11:00"))]
            }
            #expect(try await store.recordTask(task.handle, update, at: noon))
        }
    }

    func report(_ store: any LedgerStore) async throws -> PeriodReport {
        try await PeriodReport.make(
            .day, containing: LocalDay(date: at("2026-12-04 12:00"), timeZone: at.timeZone), store: store)
    }

    @Test func everyFormatCountsTheTasksAndTheirOutcomes() async throws {
        let directory = try TemporaryDirectory("customer-report")
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        try await dayOfTasks(store)
        let report = try await report(store)
        #expect(report.deliveries == 8 && report.sent == 2)
        #expect(report.tasksCreated == 3)
        #expect(report.awaitingConfirmation == 3 && report.quotaRefused == 1)
        #expect(report.notDelivered == 1 && report.expired == 1)
        #expect(report.queued == 0 && report.dead == 0 && report.inDoubt == 0 && report.accepted == 0)
        // Only the groups WeCom reported sent are reached; the waiting ones are not.
        #expect(report.groups == 2 && report.notices == 1)
        #expect(
            report.summary
                == "2026-12-04：共发布反诈信息 1 条，转发 2 个群，累计投递 8 次（成功 2 次，失败 0 次，待核实 0 次，"
                + "待网格员确认 3 次，超出配额 1 次，未送达 1 次，未确认已取消 1 次；已创建任务 3 个）")
        let a4 = try #require(report.byGroup.first { $0.groupID == "a4" })
        #expect(a4.awaitingConfirmation == 1 && a4.sent == 0)
        let n1 = try #require(report.byNotice.first { $0.noticeID == "n1" })
        #expect(n1.groups == 2 && n1.sent == 2 && n1.awaitingConfirmation == 3 && n1.quotaRefused == 1)
        #expect(n1.notDelivered == 1 && n1.expired == 0)
        #expect(report.byDay.first?.awaitingConfirmation == 3 && report.byDay.first?.groups == 2)

        // The refused, undelivered and expired are listed with Chinese reasons; waiting ones are not failures.
        let reasons = Dictionary(uniqueKeysWithValues: report.failures.map { ($0.groupID, $0.reasonChinese) })
        #expect(Set(reasons.keys) == ["a2", "a3", "a6"])
        #expect(reasons["a2"] == "该群的群发次数已达上限，未发出")
        #expect(reasons["a3"] == "该群已不是网格员的客户群（已退群或非好友）")
        #expect(reasons["a6"] == "网格员未在期限内确认，群发任务已取消")

        let table = report.rendered(as: .table)
        let header = try #require(table.split(separator: "\n").first { $0.hasPrefix("GROUP") })
        #expect(
            header.split(separator: " ", omittingEmptySubsequences: true).suffix(4).elementsEqual(
                ["AWAITING", "QUOTA_REFUSED", "NOT_DELIVERED", "EXPIRED"]))
        #expect(!header.contains("ACCEPTED"), "ACCEPTED only where a platform that confirms nothing took part")
        let a2Row = try #require(table.split(separator: "\n").first { $0.hasPrefix("a2 ") })
        #expect(a2Row.split(separator: " ").suffix(4).elementsEqual(["0", "1", "0", "0"]))
        #expect(table.contains("Customer-group tasks created: 3"))
        let a2Failure = try #require(
            table.split(separator: "\n").first { $0.hasPrefix("  群a2（a2）  《标题 n1》  quota_refused") })
        #expect(a2Failure.contains(": 该群的群发次数已达上限，未发出 (not posted: "))

        let markdown = report.rendered(as: .markdown)
        #expect(markdown.contains("| 待发送 | 待网格员确认 | 超出配额 | 未送达 | 未确认已取消 |"))
        #expect(markdown.contains("| a5 | 群a5 | wecom-customer-group | 1 | 0 | 0 | 0 | 0 | 1 | 0 | 0 | 0 |"))
        #expect(markdown.contains("- 群a6（a6） ·《标题 n2》：未确认已取消，网格员未在期限内确认，群发任务已取消"))

        let csv = report.rendered(as: .csv).split(separator: "\n").map(String.init)
        #expect(
            csv.first
                == "date,group_id,group_name,sink,deliveries,sent,dead,in_doubt,queued,accepted,awaiting_confirmation,"
                + "quota_refused,not_delivered,expired,tasks_created")
        #expect(csv.contains("2026-12-04,a3,群a3,wecom-customer-group,1,0,0,0,0,0,0,0,1,0,"))
        #expect(csv.last == "2026-12-04,TOTAL,,,8,2,0,0,0,0,3,1,1,1,3")

        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(report.rendered(as: .json).utf8)) as? [String: Any])
        #expect(json["tasks_created"] as? Int == 3 && json["awaiting_confirmation"] as? Int == 3)
        #expect(json["quota_refused"] as? Int == 1 && json["not_delivered"] as? Int == 1)
        #expect(json["expired"] as? Int == 1 && json["groups"] as? Int == 2 && json["accepted"] as? Int == 0)
        let day = try #require((json["by_day"] as? [[String: Any]])?.first)
        #expect(day["awaiting_confirmation"] as? Int == 3 && day["expired"] as? Int == 1)
    }

    @Test func theStatusLineCountsThoseAwaitingConfirmation() async throws {
        let directory = try TemporaryDirectory("customer-status")
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        try await dayOfTasks(store)
        #expect(
            StatusService.statusLine(try await report(store))
                == "today: 1 notices to 2 groups; 2 sent, 0 dead, 0 in doubt, 0 pending, 3 awaiting confirmation")
        // The daemon counts the day alone (dayTally): the same line as the day's report.
        let made = try await report(store)
        let day = try #require(LocalDay(parsing: made.date, timeZone: at.timeZone))
        let counts = try await store.dayTally(days: [day.start..<day.end])
        #expect(StatusService.statusLine(try #require(counts.first)) == StatusService.statusLine(made))
        let quiet = PeriodReport.make(day: LocalDay(date: at("2026-12-04 12:00"), timeZone: at.timeZone), records: [])
        #expect(
            StatusService.statusLine(quiet) == "today: 0 notices to 0 groups; 0 sent, 0 dead, 0 in doubt, 0 pending")
    }

    @Test func reportsWithoutCustomerGroupsReadAsBefore() {
        let day = LocalDay(date: at("2026-12-04 12:00"), timeZone: at.timeZone)
        let report = PeriodReport.make(day: day, records: [])
        #expect(!report.summary.contains("待网格员确认") && !report.summary.contains("已创建任务"))
        #expect(!report.rendered(as: .table).contains("AWAITING"))
        #expect(!report.rendered(as: .markdown).contains("待网格员确认"))
        #expect(report.rendered(as: .csv).hasSuffix("2026-12-04,TOTAL,,,0,0,0,0,0,0,0,0,0,0,0\n"))
    }

    @Test func theAdminSummaryNamesTheMembersWhoHaveNotConfirmed() async throws {
        let directory = try TemporaryDirectory("customer-summary")
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        try await dayOfTasks(store)
        let day = LocalDay(date: at("2026-12-04 12:00"), timeZone: at.timeZone)
        let awaiting = try await store.awaitingMembers(since: day.start, until: day.end)
        #expect(awaiting.map(\.member) == ["zhang", "li"] && awaiting.map(\.groups) == [2, 1])
        #expect(awaiting.allSatisfy { $0.app == "ls" && $0.oldestTaskCreatedAt == at("2026-12-04 09:00") })
        #expect(try await store.awaitingMembers(since: day.end, until: day.adding(days: 1).end).isEmpty)

        let notice = try await AdminSummary.notice(.daily, containing: day, store: store)
        let lines = notice.text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("2026-12-04：共发布反诈信息 1 条，转发 2 个群"))
        #expect(lines[1] == "待网格员确认：zhang 2个群，li 1个群")
        #expect(notice.text.contains("- 群a2（a2） ·《标题 n1》：超出配额，该群的群发次数已达上限，未发出"))
        #expect(!notice.text.contains("失败的投递不会自动重发"), "nothing is dead")
    }

    @Test func theListingShowsTheNewStatesAndTheTaskMsgid() async throws {
        let directory = try TemporaryDirectory("customer-listing")
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: directory.file("ledger.sqlite"))
        try await dayOfTasks(store)
        let rows = try await store.deliveries(noticeID: "n2") + store.deliveries(noticeID: "n1")
        let msgids = try await store.taskMessageIDs(noticeIDs: ["n1", "n2"])
        #expect(msgids.count == 8 && Set(msgids.values).count == 3)
        let listing = LedgerListing(rows: rows, timeZone: at.timeZone, taskMsgids: msgids)
        let table = listing.rendered(as: .table)
        #expect(table.split(separator: "\n").first?.hasSuffix("TASK_MSGID") == true)
        for state in ["awaiting_confirmation", "quota_refused", "not_delivered", "expired", "sent"] {
            #expect(table.contains(state))
        }
        let a6 = try #require(rows.first { $0.groupID == "a6" })
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(listing.rendered(as: .json).utf8)) as? [[String: Any]])
        #expect(json.first { $0["group_id"] as? String == "a6" }?["task_msgid"] as? String == msgids[a6.id])
        #expect(json.first { $0["group_id"] as? String == "a6" }?["state"] as? String == "expired")
        #expect(listing.rendered(as: .csv).split(separator: "\n").first?.hasSuffix(",task_msgid") == true)
    }
}
