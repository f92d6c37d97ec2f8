import Foundation
import GridcastCore
import Ledger
import Reports

/// Everything the audit page shows for one day, read from the ledger.
///
/// The counts and the summary sentence are a ``PeriodReport`` built from the day's deliveries (those whose latest
/// change falls on the day) by the same builder `gridcast report daily` uses, so the page and
/// `gridcast report daily --format json` agree on the same ledger. The grid and the lists come from the same
/// records, so they agree with the counts too; the chart's thirty days are counted by the ledger (`tally`).
struct AuditSnapshot: Sendable {
    /// How many days the bar chart covers, ending with the shown day.
    static let chartDays = 30
    /// The most rows each failure list shows.
    static let maxListed = 500

    /// The day shown.
    var day: LocalDay
    /// The day's report: counts, the Chinese summary.
    var report: PeriodReport
    /// The notices × groups grid.
    var grid: AuditGrid
    /// The day's deliveries that ended dead, and those in doubt, by notice then group.
    var dead: [DeliveryRecord]
    var inDoubt: [DeliveryRecord]
    /// One row per day of the chart, oldest first, the shown day last.
    var series: [PeriodReport.DayRow]
    /// When the snapshot was read.
    var generatedAt: Date

    /// Reads the snapshot of `day` from `store`.
    static func load(day: LocalDay, store: any LedgerStore, now: Date) async throws -> AuditSnapshot {
        let records = try await store.deliveries(changedFrom: day.start, to: day.end)
        var report = PeriodReport.make(day: day, records: records)
        report.tasksCreated = try await store.tasksCreated(from: day.start, to: day.end, groups: nil)
        let days = (0..<chartDays).map { day.adding(days: $0 - (chartDays - 1)) }
        // Only the report's per-day series is used: the same counting rule as every report's `by_day`, counted by
        // the ledger.
        let history = try await store.tally(days: days.map { $0.start..<$0.end }, groups: nil)
        let series = PeriodReport.make(.day, asked: day, days: days, tally: history).byDay
        func failed(_ state: DeliveryState) -> [DeliveryRecord] {
            records.filter { $0.state == state }.sorted { ($0.noticeID, $0.groupID) < ($1.noticeID, $1.groupID) }
        }
        return AuditSnapshot(
            day: day, report: report, grid: AuditGrid(records: records), dead: failed(.dead),
            inDoubt: failed(.inDoubt), series: series, generatedAt: now
        )
    }
}
