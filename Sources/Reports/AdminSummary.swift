import Foundation
import GridcastCore
import Ledger

/// The dispatch summary the daemon posts into the admin group (`report_to`): the Chinese summary sentence and
/// what went wrong, as a notice of its own, so that it is itself a delivery in the ledger.
public enum AdminSummary {
    /// The most failures listed one by one; the rest are counted and left to the ledger.
    static let failureLimit = 10

    /// The summary notice of `period` containing `day`, read from the ledger as it is now.
    public static func notice(
        _ period: SummaryPeriod, containing day: LocalDay, store: any LedgerStore
    ) async throws -> Notice {
        let report = try await PeriodReport.make(period == .daily ? .day : .week, containing: day, store: store)
        let days = PeriodReport.days(of: period == .daily ? .day : .week, containing: day)
        let awaiting = try await store.awaitingMembers(since: days.first!.start, until: days.last!.end)
        return notice(period, report: report, awaiting: awaiting)
    }

    /// The summary notice of a report, naming the members with customer groups still `awaiting`: its id names the
    /// period, so one period is posted once.
    public static func notice(_ period: SummaryPeriod, report: PeriodReport, awaiting: [AwaitingMember] = []) -> Notice
    {
        let (name, span) =
            period == .daily ? ("日报", report.date) : ("周报", "\(report.from) 至 \(report.to)")
        var lines = [report.summary]
        if let line = awaitingLine(awaiting) { lines.append(line) }
        let failures = report.failures
        if !failures.isEmpty {
            lines.append("")
            lines.append("未成功的投递（\(failures.count) 次）：")
            for failure in failures.prefix(failureLimit) {
                lines.append(
                    "- \(failure.groupLabel) ·《\(failure.titleLabel)》：\(failure.stateChinese)，\(failure.reasonChinese)")
            }
            if failures.count > failureLimit {
                lines.append("- 另有 \(failures.count - failureLimit) 次，见 gridcast ledger list")
            }
            if failures.contains(where: { $0.state == "dead" }) {
                // A dead delivery is not retried by itself, and a rotation goes on to the next notice for that group.
                lines.append("失败的投递不会自动重发；按轮换发布的群下次收到下一条。")
            }
        }
        return Notice(
            id: "report-\(period.rawValue)-\(period == .daily ? report.date : report.from)",
            title: "反诈信息发布\(name) \(span)",
            text: lines.joined(separator: "\n")
        )
    }

    /// `待网格员确认：zhangsan 3个群，lisi 2个群` — the members (by userid: the config names none) whose customer groups
    /// wait for them to confirm a task, most groups first; nil when none waits.
    static func awaitingLine(_ awaiting: [AwaitingMember]) -> String? {
        var groups: [String: Int] = [:]
        for entry in awaiting { groups[entry.member, default: 0] += entry.groups }
        guard !groups.isEmpty else { return nil }
        let members = groups.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return "待网格员确认：" + members.map { "\($0.key) \($0.value)个群" }.joined(separator: "，")
    }
}
