import Foundation
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

    @Test(arguments: StoreKind.allCases)
    func theLedgersCountsAreWhatItsRowsAddUpTo(kind: StoreKind) async throws {
        let directory = try TemporaryDirectory("report-tally")
        defer { directory.remove() }
        let store = try await ledger(kind, in: directory)
        let day = LocalDay(date: base.addingTimeInterval(86_400), timeZone: zone)
        for groups in [nil, Set(["g1", "g4", "g7"])] as [Set<String>?] {
            for period in PeriodReport.Period.allCases {
                let days = PeriodReport.days(of: period, containing: day)
                var records = try await store.deliveries(changedFrom: days.first!.start, to: days.last!.end)
                if let groups { records = records.filter { groups.contains($0.groupID) } }
                let added = PeriodReport.make(period, asked: day, days: days, records: records)
                let counted = try await PeriodReport.make(period, containing: day, store: store, groups: groups)
                #expect(counted == added, "\(period) \(groups ?? [])")
                if groups == nil && period != .day {
                    #expect(counted.sent > 0 && counted.dead > 0 && counted.inDoubt > 0 && counted.queued > 0)
                    #expect(counted.failures.count == counted.dead + counted.inDoubt)
                }
            }
        }
        // A day's counts, and the series over the days around it.
        let report = try await PeriodReport.make(.day, containing: day, store: store)
        #expect(report.byDay.count == 1 && report.byDay[0].deliveries == report.deliveries)
        let week = try await PeriodReport.make(.week, containing: day, store: store)
        #expect(week.byDay.map(\.deliveries).reduce(0, +) == week.deliveries)
        #expect(week.byDay.filter { $0.deliveries > 0 }.count >= 3)
    }
}
