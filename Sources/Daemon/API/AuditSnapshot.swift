import Foundation
import GridcastCore
import Ledger
import Reports

/// Everything the audit page shows for one day, read from the ledger at the cost of what the page shows.
///
/// The counts and the summary sentence are the day's ``PeriodReport``, counted by the ledger (`tally`) as
/// `gridcast report daily` counts them, so the page and `gridcast report daily --format json` agree on the same
/// ledger. The grid shows the first ``AuditGrid/maxGroups`` groups by id, and reads only their deliveries of the
/// day, group by group; the failure lists read their first ``maxListed`` rows; the chart's thirty days are counted by
/// the ledger. A city's day of a million deliveries is never read whole.
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
    /// The day's deliveries that ended dead, and those in doubt, by notice then group: the first ``maxListed``.
    var dead: [DeliveryRecord]
    var inDoubt: [DeliveryRecord]
    /// One row per day of the chart, oldest first, the shown day last.
    var series: [PeriodReport.DayRow]
    /// When the snapshot was read.
    var generatedAt: Date

    /// Reads the snapshot of `day` from `store`.
    static func load(day: LocalDay, store: any LedgerStore, now: Date) async throws -> AuditSnapshot {
        let report = try await PeriodReport.make(.day, containing: day, store: store)
        var shown: [DeliveryRecord] = []
        for group in report.byGroup.prefix(AuditGrid.maxGroups) {
            shown += try await store.deliveries(
                matching: DeliveryFilter(changedFrom: day.start, changedBefore: day.end, groupID: group.groupID))
        }
        // Rows are the notices with a delivery to a shown group; the totals say how many the day had.
        var grid = AuditGrid(records: shown)
        grid.totalNotices = report.byNotice.count
        grid.totalGroups = report.byGroup.count
        let days = (0..<chartDays).map { day.adding(days: $0 - (chartDays - 1)) }
        // Only the per-day series: the same counting rule as every report's `by_day`, counted by the ledger.
        let history = try await store.dayTally(days: days.map { $0.start..<$0.end })
        let series = PeriodReport.make(
            .day, asked: day, days: days, tally: DeliveryTally(groups: [], notices: [], days: history, failures: [])
        ).byDay
        func failed(_ state: DeliveryState) async throws -> [DeliveryRecord] {
            try await store.deliveries(
                matching: DeliveryFilter(
                    changedFrom: day.start, changedBefore: day.end, state: state, limit: maxListed)
            ).sorted { ($0.noticeID, $0.groupID) < ($1.noticeID, $1.groupID) }
        }
        return AuditSnapshot(
            day: day, report: report, grid: grid, dead: try await failed(.dead),
            inDoubt: try await failed(.inDoubt), series: series, generatedAt: now
        )
    }
}
