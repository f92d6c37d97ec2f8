import Foundation
import GridcastCore
import Ledger

/// The day's dispatch count from the ledger: "today 25 notices went to 18 groups".
///
/// Which day a delivery counts on: the local day (in the config's `timezone`) of its latest state change —
/// its sent time when sent, the time it became dead or in_doubt when it did, otherwise its last attempt or its
/// planning. So every delivery counts on exactly one day, and a notice planned before midnight and sent after
/// counts on the day it was sent.
public struct DailyReport: Sendable, Codable, Equatable {
    /// `YYYY-MM-DD`.
    public var date: String
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
    /// One row per group.
    public var byGroup: [GroupRow]
    /// One row per notice.
    public var byNotice: [NoticeRow]
    /// Deliveries that ended dead or in doubt, with the reason.
    public var failures: [Failure]

    /// A group's counts.
    public struct GroupRow: Sendable, Codable, Equatable {
        public var groupID: String
        public var groupName: String
        public var sink: String
        public var deliveries: Int
        public var sent: Int
        public var dead: Int
        public var inDoubt: Int
        enum CodingKeys: String, CodingKey {
            case groupID = "group_id", groupName = "group_name", sink, deliveries, sent, dead, inDoubt = "in_doubt"
        }
    }

    /// A notice's counts.
    public struct NoticeRow: Sendable, Codable, Equatable {
        public var noticeID: String
        public var title: String
        public var deliveries: Int
        public var sent: Int
        public var dead: Int
        public var inDoubt: Int
        enum CodingKeys: String, CodingKey {
            case noticeID = "notice_id", title, deliveries, sent, dead, inDoubt = "in_doubt"
        }
    }

    /// A delivery that did not get through.
    public struct Failure: Sendable, Codable, Equatable {
        public var noticeID: String
        public var groupID: String
        public var state: String
        public var attempts: Int
        public var reason: String
        enum CodingKeys: String, CodingKey {
            case noticeID = "notice_id", groupID = "group_id", state, attempts, reason
        }
    }

    enum CodingKeys: String, CodingKey {
        case date, timezone, notices, groups, deliveries, sent, pending, retry, dead
        case inDoubt = "in_doubt"
        case byGroup = "by_group"
        case byNotice = "by_notice"
        case failures
    }

    /// Builds the report for `day` from the ledger.
    public static func make(day: LocalDay, store: any LedgerStore) async throws -> DailyReport {
        let records = try await store.deliveries(changedFrom: day.start, to: day.end)
        return make(day: day, records: records)
    }

    /// Builds the report from the deliveries counted on `day`.
    public static func make(day: LocalDay, records: [DeliveryRecord]) -> DailyReport {
        func count(_ rows: [DeliveryRecord], _ state: DeliveryState) -> Int { rows.filter { $0.state == state }.count }
        let sentRows = records.filter { $0.state == .sent }
        let byGroup = Dictionary(grouping: records, by: \.groupID).map { id, rows in
            GroupRow(
                groupID: id, groupName: rows[0].groupName, sink: rows[0].sink, deliveries: rows.count,
                sent: count(rows, .sent), dead: count(rows, .dead), inDoubt: count(rows, .inDoubt)
            )
        }.sorted { $0.groupID < $1.groupID }
        let byNotice = Dictionary(grouping: records, by: \.noticeID).map { id, rows in
            NoticeRow(
                noticeID: id, title: rows[0].noticeTitle, deliveries: rows.count, sent: count(rows, .sent),
                dead: count(rows, .dead), inDoubt: count(rows, .inDoubt)
            )
        }.sorted { $0.noticeID < $1.noticeID }
        let failures = records.filter { $0.state == .dead || $0.state == .inDoubt }.map {
            Failure(
                noticeID: $0.noticeID, groupID: $0.groupID, state: $0.state.rawValue, attempts: $0.attempts,
                reason: $0.lastError ?? "")
        }
        return DailyReport(
            date: day.description,
            timezone: day.timeZone.identifier,
            notices: Set(sentRows.map(\.noticeID)).count,
            groups: Set(sentRows.map(\.groupID)).count,
            deliveries: records.count,
            sent: sentRows.count,
            pending: count(records, .planned) + count(records, .claimed),
            retry: count(records, .retry),
            dead: count(records, .dead),
            inDoubt: count(records, .inDoubt),
            byGroup: byGroup,
            byNotice: byNotice,
            failures: failures
        )
    }

    /// The Chinese summary line, e.g. `2026-11-28：共发布 25 条，转发 18 个群（投递 450 次，成功 448 次，失败 2 次）`.
    public var summary: String {
        var detail = "投递 \(deliveries) 次，成功 \(sent) 次，失败 \(dead) 次"
        if inDoubt > 0 { detail += "，待核实 \(inDoubt) 次" }
        if pending + retry > 0 { detail += "，待发送 \(pending + retry) 次" }
        return "\(date)：共发布 \(notices) 条，转发 \(groups) 个群（\(detail)）"
    }
}
