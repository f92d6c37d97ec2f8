import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Ledger
import Reports
import Testing

/// Reports are counted by the ledger (`tally`): on either store, the counts, the per-day series and the failures
/// must be what adding up the rows themselves gives.
@Suite("Reports counted by the ledger")
struct ReportTallyTests {
    let zone = TimeZone(identifier: "Asia/Shanghai")!
    /// 2026-11-18 09:46 in Shanghai, a Wednesday.
    let base = Date(timeIntervalSince1970: 1_795_000_000)

    /// Three notices on three days to eight groups; of each, six sent to and settled over the next day and a half
    /// (sent, dead, in doubt, retry), two left planned.
    func ledger(_ kind: StoreKind, in directory: TemporaryDirectory) async throws -> any LedgerStore {
        let store = try await kind.open(in: directory)
        for (index, notice) in ["n1", "n2", "n3"].enumerated() {
            let at = base.addingTimeInterval(Double(index) * 86_400)
            _ = try await store.plan(
                Plan(
                    notice: Notice(id: notice, title: "第\(index + 1)期", text: "不转账"), selector: "all",
                    origin: "test",
                    targets: (0..<8).map { PlanTarget(groupID: "g\($0)", groupName: "群\($0)", sink: "wecom") },
                    now: at))
            let claims = try await store.claim(
                ClaimRequest(
                    owner: "w", limit: 6, noticeID: notice, now: at, timeout: .seconds(15),
                    leaseMargin: .seconds(30)))
            let results: [DeliveryOutcome.Result] = [
                .sent, .sent, .dead, .inDoubt, .retry(at: at.addingTimeInterval(600), refundAttempt: false), .sent,
            ]
            let outcomes = zip(claims, results).enumerated().map { position, pair in
                let sent: Bool
                if case .sent = pair.1 { sent = true } else { sent = false }
                return DeliveryOutcome(
                    claim: pair.0, result: pair.1, partsSent: sent ? 1 : 0, error: sent ? nil : "errcode 93000",
                    at: at.addingTimeInterval(Double(position) * 6 * 3600))
            }
            _ = try await store.settle(outcomes, claiming: nil)
        }
        return store
    }

    /// Every period's report around `day` counted by the store, for every group and for some: what adding up the
    /// rows gives.
    func expectCountsAreTheRows(_ store: any LedgerStore, around day: LocalDay) async throws {
        for groups in [nil, Set(["g1", "g4", "g7"])] as [Set<String>?] {
            for period in PeriodReport.Period.allCases {
                let days = PeriodReport.days(of: period, containing: day)
                var records = try await store.deliveries(changedFrom: days.first!.start, to: days.last!.end)
                if let groups { records = records.filter { groups.contains($0.groupID) } }
                let added = PeriodReport.make(period, asked: day, days: days, records: records)
                let counted = try await PeriodReport.make(period, containing: day, store: store, groups: groups)
                #expect(counted == added, "\(period) \(groups ?? [])")
                if groups == nil {
                    let ranges = days.map { $0.start..<$0.end }
                    #expect(try await store.dayTally(days: ranges) == store.tally(days: ranges, groups: nil).days)
                }
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theLedgersCountsAreWhatItsRowsAddUpTo(kind: StoreKind) async throws {
        let directory = try TemporaryDirectory("report-tally")
        defer { directory.remove() }
        let store = try await ledger(kind, in: directory)
        let day = LocalDay(date: base.addingTimeInterval(86_400), timeZone: zone)
        try await expectCountsAreTheRows(store, around: day)
        for period in PeriodReport.Period.allCases where period != .day {
            let counted = try await PeriodReport.make(period, containing: day, store: store)
            #expect(counted.sent > 0 && counted.dead > 0 && counted.inDoubt > 0 && counted.queued > 0)
            #expect(counted.failures.count == counted.dead + counted.inDoubt)
        }
        // A day's counts, and the series over the days around it.
        let report = try await PeriodReport.make(.day, containing: day, store: store)
        #expect(report.byDay.count == 1 && report.byDay[0].deliveries == report.deliveries)
        let week = try await PeriodReport.make(.week, containing: day, store: store)
        #expect(week.byDay.map(\.deliveries).reduce(0, +) == week.deliveries)
        #expect(week.byDay.filter { $0.deliveries > 0 }.count >= 3)
    }

    /// An operator's actions take deliveries out of settled states and into others, on a later day: the running
    /// sums follow every move (a dead one retried, an in-doubt one resolved either way, open ones cancelled), the
    /// reports of the days before and after stay what the rows add up to, and `verify` finds the sums whole.
    @Test(arguments: StoreKind.allCases)
    func operatorActionsMoveTheCountsWithTheRows(kind: StoreKind) async throws {
        let directory = try TemporaryDirectory("report-tally-actions")
        defer { directory.remove() }
        let store = try await ledger(kind, in: directory)
        let later = base.addingTimeInterval(3 * 86_400)
        func group(_ notice: String, in state: DeliveryState) async throws -> String {
            try #require(try await store.deliveries(noticeID: notice).first { $0.state == state }).groupID
        }
        _ = try await store.retry(
            DeliverySelection(noticeID: "n1"), by: "secretary", note: "webhook fixed", at: later)
        _ = try await store.resolve(
            noticeID: "n2", groupID: try await group("n2", in: .inDoubt), as: .sent, by: "secretary", note: "seen",
            at: later)
        _ = try await store.resolve(
            noticeID: "n3", groupID: try await group("n3", in: .inDoubt), as: .resend, by: "secretary",
            note: "missing", at: later)
        let cancelled = try await store.cancel(
            DeliverySelection(noticeID: "n3"), by: "secretary", note: "superseded", at: later.addingTimeInterval(60))
        #expect(cancelled.changed.count >= 3)
        for offset in [1.0, 3] {
            try await expectCountsAreTheRows(
                store, around: LocalDay(date: base.addingTimeInterval(offset * 86_400), timeZone: zone))
        }
        let moved = try await PeriodReport.make(.day, containing: LocalDay(date: later, timeZone: zone), store: store)
        // The cancelled ones and the retried dead one count on the day of the actions.
        #expect(moved.cancelled == cancelled.changed.count && moved.queued >= 1, "\(moved.summary)")
        guard case .ok = try await store.verify(checkpoint: nil) else {
            Issue.record("verify: \(try await store.verify(checkpoint: nil))")
            return
        }
    }

    /// A ledger of the version before the running sums: opening it adds them from its rows, in place. Its reports
    /// are unchanged, `verify` passes with a checkpoint taken before the upgrade, and the sums then follow new work.
    @Test func aLedgerWithoutSumsGetsThemFromItsRowsWhenOpened() async throws {
        let directory = try TemporaryDirectory("report-tally-upgrade")
        defer { directory.remove() }
        let path = directory.file("ledger.sqlite")
        let store = try await ledger(.sqlite, in: directory)
        guard case .ok(_, let checkpoint) = try await store.verify(checkpoint: nil) else {
            Issue.record("the ledger does not verify before the upgrade")
            return
        }
        let day = LocalDay(date: base.addingTimeInterval(86_400), timeZone: zone)
        let before = try await PeriodReport.make(.month, containing: day, store: store)
        // What the version before left: no sums, no triggers, v12 not applied.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: """
                    DROP TRIGGER tally_insert; DROP TRIGGER tally_leave; DROP TRIGGER tally_enter;
                    DROP TABLE tally_groups; DROP TABLE tally_notices;
                    DELETE FROM grdb_migrations WHERE identifier = 'v12-tallies';
                    """)
        }
        // Read-only, before the upgrade, reports count the rows.
        let readOnly = try SQLiteLedgerStore(readingOnly: path)
        #expect(try await PeriodReport.make(.month, containing: day, store: readOnly) == before)
        let upgraded = try SQLiteLedgerStore(path: path)
        #expect(try await PeriodReport.make(.month, containing: day, store: upgraded) == before)
        let sums = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT sum(count) FROM tally_groups") ?? 0
        }
        #expect(sums == before.deliveries - before.queued)
        guard case .ok = try await upgraded.verify(checkpoint: checkpoint) else {
            Issue.record("verify with the checkpoint from before: \(try await upgraded.verify(checkpoint: checkpoint))")
            return
        }
        _ = try await upgraded.cancel(
            DeliverySelection(noticeID: "n1"), by: "secretary", note: "", at: base.addingTimeInterval(86_400))
        try await expectCountsAreTheRows(upgraded, around: day)
    }
}
