import Foundation
import GridcastCore
import Ledger

/// The dispatch count of a day, a week (Monday–Sunday) or a calendar month, from the ledger: "this month 25
/// notices went to 18 groups". The same fields for every period.
///
/// Which day a delivery counts on: the local day (in the config's `timezone`) of its latest state change —
/// its sent time when sent, the time it became dead or in_doubt when it did, otherwise its last attempt or its
/// planning. So every delivery counts on exactly one day, and a notice planned before midnight and sent after
/// counts on the day it was sent.
public struct PeriodReport: Sendable, Codable, Equatable {
    /// The kinds of period.
    public enum Period: String, Sendable, Codable, CaseIterable {
        case day, week, month, year
        /// Any run of days, `--since` to `--until`.
        case range
    }

    /// Which period.
    public var period: Period
    /// The day asked for, `YYYY-MM-DD` (for a week or month: a day inside it).
    public var date: String
    /// The period's first and last day, `YYYY-MM-DD`.
    public var from: String
    public var to: String
    /// The IANA time zone the day is counted in.
    public var timezone: String
    /// Distinct notices with at least one delivery sent that day.
    public var notices: Int
    /// Distinct groups that received at least one notice that day.
    public var groups: Int
    /// Deliveries counted on that day, and their states.
    public var deliveries: Int
    public var sent: Int
    /// Planned or claimed: not yet settled.
    public var pending: Int
    public var retry: Int
    public var dead: Int
    public var inDoubt: Int
    /// Ended unsent by an operator: neither sent nor failed.
    public var cancelled: Int
    /// Accepted by the platform, which never confirms posting (Teams Workflows): not counted as sent.
    public var accepted: Int = 0
    /// Customer groups (WeCom mass-message tasks): tasks the platform created whose creation was claimed in the
    /// period (已创建任务).
    public var tasksCreated: Int = 0
    /// In a task the member has not confirmed yet (待网格员确认): not sent, not final.
    public var awaitingConfirmation: Int = 0
    /// The group had had its quota of mass messages (超出配额).
    public var quotaRefused: Int = 0
    /// Not a friend, or no longer in the group (未送达).
    public var notDelivered: Int = 0
    /// The member did not confirm in time; the task was cancelled (未确认已取消).
    public var expired: Int = 0
    /// One row per group.
    public var byGroup: GroupRows
    /// One row per notice.
    public var byNotice: [NoticeRow]
    /// Deliveries that did not get through — dead, in doubt, and customer groups' quota refused, not delivered and
    /// expired — with the reason.
    public var failures: [Failure]
    /// One row per day of the period.
    public var byDay: [DayRow]
    /// The selector the figures are limited to (`report --to`), or nil for every group.
    public var selector: String?
    /// The groups (of the selection) that received nothing in the period, when asked for (`--include-idle`).
    public var idleGroups: [IdleGroup]?

    /// A group that received nothing in the period.
    public struct IdleGroup: Sendable, Codable, Equatable {
        public var groupID: String
        public var groupName: String
        enum CodingKeys: String, CodingKey {
            case groupID = "group_id", groupName = "group_name"
        }

        /// Creates an entry.
        public init(groupID: String, groupName: String) {
            self.groupID = groupID
            self.groupName = groupName
        }
    }

    /// A day's counts.
    public struct DayRow: Sendable, Codable, Equatable {
        public var date: String
        public var notices: Int
        public var groups: Int
        public var deliveries: Int
        public var sent: Int
        public var dead: Int
        public var inDoubt: Int
        /// Not yet settled (planned, claimed, retry): 待发送, apart from sent, failed and cancelled.
        public var queued: Int
        /// Accepted by a platform that confirms nothing (Teams): 已受理未确认, never counted as sent.
        public var accepted: Int
        /// Customer groups: awaiting the member (待网格员确认), quota refused (超出配额), not delivered (未送达),
        /// expired (未确认已取消).
        public var awaitingConfirmation: Int = 0
        public var quotaRefused: Int = 0
        public var notDelivered: Int = 0
        public var expired: Int = 0
        enum CodingKeys: String, CodingKey {
            case date, notices, groups, deliveries, sent, dead, inDoubt = "in_doubt", queued, accepted
            case awaitingConfirmation = "awaiting_confirmation", quotaRefused = "quota_refused"
            case notDelivered = "not_delivered", expired
        }
    }

    /// A group's counts.
    public struct GroupRow: Sendable, Codable, Equatable {
        public var groupID: String
        public var groupName: String
        public var sink: String
        public var deliveries: Int
        public var sent: Int
        public var dead: Int
        public var inDoubt: Int
        /// Not yet settled (planned, claimed, retry): 待发送.
        public var queued: Int
        /// Accepted, not confirmed: 已受理未确认.
        public var accepted: Int
        /// Customer groups: awaiting the member (待网格员确认), quota refused (超出配额), not delivered (未送达),
        /// expired (未确认已取消).
        public var awaitingConfirmation: Int = 0
        public var quotaRefused: Int = 0
        public var notDelivered: Int = 0
        public var expired: Int = 0
        enum CodingKeys: String, CodingKey {
            case groupID = "group_id", groupName = "group_name", sink, deliveries, sent, dead, inDoubt = "in_doubt"
            case queued, accepted
            case awaitingConfirmation = "awaiting_confirmation", quotaRefused = "quota_refused"
            case notDelivered = "not_delivered", expired
        }
    }

    /// A notice's counts.
    public struct NoticeRow: Sendable, Codable, Equatable {
        public var noticeID: String
        public var title: String
        /// Distinct groups it was sent to.
        public var groups: Int
        public var deliveries: Int
        public var sent: Int
        public var dead: Int
        public var inDoubt: Int
        /// Not yet settled (planned, claimed, retry): 待发送.
        public var queued: Int
        /// Accepted, not confirmed: 已受理未确认.
        public var accepted: Int
        /// Customer groups: awaiting the member (待网格员确认), quota refused (超出配额), not delivered (未送达),
        /// expired (未确认已取消).
        public var awaitingConfirmation: Int = 0
        public var quotaRefused: Int = 0
        public var notDelivered: Int = 0
        public var expired: Int = 0
        enum CodingKeys: String, CodingKey {
            case noticeID = "notice_id", title, groups, deliveries, sent, dead, inDoubt = "in_doubt", queued, accepted
            case awaitingConfirmation = "awaiting_confirmation", quotaRefused = "quota_refused"
            case notDelivered = "not_delivered", expired
        }
    }

    /// A delivery that did not get through.
    public struct Failure: Sendable, Codable, Equatable {
        public var noticeID: String
        public var noticeTitle: String
        public var groupID: String
        public var groupName: String
        public var state: String
        public var attempts: Int
        /// The stored reason, as the platform or the transport gave it.
        public var reason: String
        /// The reason in Chinese for the secretary (``FailureReason``), or the stored one when not recognized.
        public var reasonChinese: String
        enum CodingKeys: String, CodingKey {
            case noticeID = "notice_id", noticeTitle = "notice_title", groupID = "group_id", groupName = "group_name"
            case state, attempts, reason
            case reasonChinese = "reason_zh"
        }
    }

    enum CodingKeys: String, CodingKey {
        case period, date, from, to, timezone, notices, groups, deliveries, sent, pending, retry, dead, cancelled
        case accepted
        case tasksCreated = "tasks_created", awaitingConfirmation = "awaiting_confirmation"
        case quotaRefused = "quota_refused", notDelivered = "not_delivered", expired
        case byDay = "by_day"
        case inDoubt = "in_doubt"
        case byGroup = "by_group"
        case byNotice = "by_notice"
        case failures, selector
        case idleGroups = "idle_groups"
    }

    /// The days of the `period` containing `day`: the day itself, its Monday–Sunday week, its calendar month or its
    /// calendar year (a range: the day itself).
    public static func days(of period: Period, containing day: LocalDay) -> [LocalDay] {
        switch period {
        case .day, .range:
            return [day]
        case .year:
            var (first, last) = (day, day)
            (first.month, first.day) = (1, 1)
            (last.month, last.day) = (12, 31)
            return days(from: first, through: last)
        case .week:
            let monday = day.adding(days: 1 - day.isoWeekday)
            return (0..<7).map { monday.adding(days: $0) }
        case .month:
            var first = day
            first.day = 1
            var days: [LocalDay] = []
            var cursor = first
            while cursor.month == day.month {
                days.append(cursor)
                cursor = cursor.adding(days: 1)
            }
            return days
        }
    }

    /// Every day from `first` through `last`, in order; none when `last` comes before `first`.
    public static func days(from first: LocalDay, through last: LocalDay) -> [LocalDay] {
        var days: [LocalDay] = []
        var cursor = first
        while cursor.start < last.end {
            days.append(cursor)
            cursor = cursor.adding(days: 1)
        }
        return days
    }

    /// Builds the report for the day `day` from the ledger.
    public static func make(day: LocalDay, store: any LedgerStore) async throws -> PeriodReport {
        try await make(.day, containing: day, store: store)
    }

    /// Builds the report for the `period` containing `day` from the ledger, counting only the deliveries to
    /// `groups` when given. The ledger adds the counts up (``LedgerQueries/tally(days:groups:)``): the report costs
    /// what its answer holds, not what the ledger holds.
    public static func make(
        _ period: Period, containing day: LocalDay, store: any LedgerStore, groups: Set<String>? = nil
    ) async throws
        -> PeriodReport
    {
        try await make(period, asked: day, days: days(of: period, containing: day), store: store, groups: groups)
    }

    /// Builds the report of `days` (the period's, in order) from the ledger, counting only the deliveries to `groups`
    /// when given: a range's report (`--since`/`--until`).
    public static func make(
        _ period: Period, asked day: LocalDay, days: [LocalDay], store: any LedgerStore, groups: Set<String>? = nil
    ) async throws -> PeriodReport {
        let tally = try await store.tally(days: days.map { $0.start..<$0.end }, groups: groups)
        var report = make(period, asked: day, days: days, tally: tally)
        report.tasksCreated = try await store.tasksCreated(from: days.first!.start, to: days.last!.end, groups: groups)
        return report
    }

    /// Limits the report's heading to `selector` and, when `listingIdle`, lists which of `groups` (id and name, in
    /// order) received nothing in the period.
    public mutating func scope(selector: String?, groups: [(id: String, name: String)], listingIdle: Bool) {
        self.selector = selector
        guard listingIdle else { return }
        let reached = Set(byGroup.filter { $0.sent > 0 }.map(\.groupID))
        idleGroups = groups.filter { !reached.contains($0.id) }.map { IdleGroup(groupID: $0.id, groupName: $0.name) }
    }

    /// Builds the report for one day from the deliveries counted on it.
    public static func make(day: LocalDay, records: [DeliveryRecord]) -> PeriodReport {
        make(.day, asked: day, days: [day], records: records)
    }

    /// Builds a report from the deliveries counted in `days`.
    public static func make(
        _ period: Period, asked day: LocalDay, days: [LocalDay], records: [DeliveryRecord]
    )
        -> PeriodReport
    {
        make(
            period, asked: day, days: days, tally: DeliveryTally(records: records, days: days.map { $0.start..<$0.end })
        )
    }

    /// Builds a report from the counts of the deliveries in `days`.
    public static func make(
        _ period: Period, asked day: LocalDay, days: [LocalDay], tally: DeliveryTally
    )
        -> PeriodReport
    {
        let byGroup = GroupRows(counted: tally.groups)
        // A delivery per notice and group: a notice's groups sent to are its sent deliveries.
        let byNotice = tally.notices.map { notice in
            let states = notice.states
            return NoticeRow(
                noticeID: notice.id, title: notice.title, groups: states[.sent, default: 0], deliveries: states.total,
                sent: states[.sent, default: 0], dead: states[.dead, default: 0], inDoubt: states[.inDoubt, default: 0],
                queued: states.queued, accepted: states[.accepted, default: 0]
            ).withCustomerGroupCounts(states)
        }
        let failures = tally.failures.map {
            Failure(
                noticeID: $0.noticeID, noticeTitle: $0.noticeTitle, groupID: $0.groupID, groupName: $0.groupName,
                state: $0.state.rawValue, attempts: $0.attempts, reason: $0.lastError ?? "",
                reasonChinese: FailureReason.chinese(state: $0.state, lastError: $0.lastError ?? "", sink: $0.sink))
        }
        let byDay = zip(days, tally.days).map { day, counted in
            let states = counted.states
            return DayRow(
                date: day.description, notices: counted.sentNotices, groups: counted.sentGroups,
                deliveries: states.total, sent: states[.sent, default: 0], dead: states[.dead, default: 0],
                inDoubt: states[.inDoubt, default: 0], queued: states.queued, accepted: states[.accepted, default: 0]
            ).withCustomerGroupCounts(states)
        }
        let states = tally.states
        var report = PeriodReport(
            period: period,
            date: day.description,
            from: days.first!.description,
            to: days.last!.description,
            timezone: day.timeZone.identifier,
            notices: tally.notices.filter { $0.states[.sent, default: 0] > 0 }.count,
            groups: tally.groups.reduce(0) { $0 + ($1.states[.sent] > 0 ? 1 : 0) },
            deliveries: states.total,
            sent: states[.sent, default: 0],
            pending: states[.planned, default: 0] + states[.claimed, default: 0],
            retry: states[.retry, default: 0],
            dead: states[.dead, default: 0],
            inDoubt: states[.inDoubt, default: 0],
            cancelled: states[.cancelled, default: 0],
            byGroup: byGroup,
            byNotice: byNotice,
            failures: failures,
            byDay: byDay,
            selector: nil,
            idleGroups: nil
        )
        report.accepted = states[.accepted, default: 0]
        report.awaitingConfirmation = states[.awaitingConfirmation, default: 0]
        report.quotaRefused = states[.quotaRefused, default: 0]
        report.notDelivered = states[.notDelivered, default: 0]
        report.expired = states[.expired, default: 0]
        return report
    }

    /// Deliveries not yet settled — planned, claimed or waiting to retry: 待发送 in the summary line and the tables.
    public var queued: Int { pending + retry }

    /// The Chinese summary line, worded alike for every period:
    /// `2026年11月：共发布反诈信息 25 条，转发 18 个群，累计投递 450 次（成功 448 次，失败 2 次，待核实 0 次）`; a day is
    /// named `2026-11-28`, a week `2026-11-23 至 2026-11-29`; `（tag:lingshui）` follows the period when limited.
    public var summary: String {
        var span: String
        switch period {
        case .day: span = date
        case .week: span = "\(from) 至 \(to)"
        case .month: span = "\(from.prefix(4))年\(Int(from.dropFirst(5).prefix(2)) ?? 0)月"
        case .year: span = "\(from.prefix(4))年"
        case .range: span = from == to ? from : "\(from) 至 \(to)"
        }
        if let selector { span += "（\(selector)）" }
        var line = "\(span)：共发布反诈信息 \(notices) 条，转发 \(groups) 个群，累计投递 \(deliveries) 次"
        line += "（成功 \(sent) 次，失败 \(dead) 次，待核实 \(inDoubt) 次"
        if queued > 0 { line += "，待发送 \(queued) 次" }
        if cancelled > 0 { line += "，已取消 \(cancelled) 次" }
        if accepted > 0 { line += "，已受理未确认 \(accepted) 次" }
        // Customer groups: a group counts as reached above only once the platform reported it sent.
        for (label, count) in customerGroupCounts where count > 0 { line += "，\(label) \(count) 次" }
        if tasksCreated > 0 { line += "；已创建任务 \(tasksCreated) 个" }
        return line + "）"
    }

    /// The customer-group outcomes in Chinese, in the order reports show them.
    var customerGroupCounts: [(label: String, count: Int)] {
        [
            ("待网格员确认", awaitingConfirmation), ("超出配额", quotaRefused), ("未送达", notDelivered),
            ("未确认已取消", expired),
        ]
    }
}

/// A row of counts that also counts customer groups' outcomes.
protocol CustomerGroupCounted {
    var awaitingConfirmation: Int { get set }
    var quotaRefused: Int { get set }
    var notDelivered: Int { get set }
    var expired: Int { get set }
}

extension CustomerGroupCounted {
    /// The row with the customer-group outcomes among `states` counted.
    func withCustomerGroupCounts(_ states: StateCounts) -> Self {
        var row = self
        row.awaitingConfirmation = states[.awaitingConfirmation, default: 0]
        row.quotaRefused = states[.quotaRefused, default: 0]
        row.notDelivered = states[.notDelivered, default: 0]
        row.expired = states[.expired, default: 0]
        return row
    }

    /// The customer-group outcomes, in the order reports show them.
    var customerGroupCells: [Int] { [awaitingConfirmation, quotaRefused, notDelivered, expired] }
}

extension PeriodReport.DayRow: CustomerGroupCounted {}
extension PeriodReport.GroupRow: CustomerGroupCounted {}
extension PeriodReport.NoticeRow: CustomerGroupCounted {}
