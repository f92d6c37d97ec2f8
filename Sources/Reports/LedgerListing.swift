import Foundation
import GridcastCore
import Ledger

/// `gridcast ledger list`: one row per delivery, in the report formats.
public struct LedgerListing: Sendable {
    /// The rows.
    public var rows: [DeliveryRecord]
    /// The zone times are shown in.
    public var timeZone: TimeZone
    /// Customer groups' rows: the platform's msgid of the task each went out in, by delivery id.
    public var taskMsgids: [String: String]

    /// Creates a listing.
    public init(rows: [DeliveryRecord], timeZone: TimeZone, taskMsgids: [String: String] = [:]) {
        self.rows = rows
        self.timeZone = timeZone
        self.taskMsgids = taskMsgids
    }

    static let columns = [
        "notice_id", "notice_title", "group_id", "group_name", "sink", "state", "attempts", "first_attempt_at",
        "last_attempt_at", "sent_at", "next_at", "parts", "last_error", "note", "poster_sha256", "poster_format",
        "poster_size", "image_url", "link_url", "link_title", "link_description", "link_picurl", "task_msgid",
    ]

    private func cells(_ row: DeliveryRecord) -> [String] {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        func time(_ date: Date?) -> String { date.map(formatter.string(from:)) ?? "" }
        return [
            row.noticeID, row.noticeTitle, row.groupID, row.groupName, row.sink, row.state.rawValue, "\(row.attempts)",
            time(row.firstAttemptAt), time(row.lastAttemptAt), time(row.sentAt),
            // When an unsent delivery is due: a planned one held by quiet hours shows when they end.
            row.state == .planned || row.state == .retry ? time(row.nextAt) : "", "\(row.partsSent)/\(row.partsTotal)",
            row.lastError ?? "", row.note ?? "", row.poster?.sha256 ?? "", row.poster?.format ?? "",
            row.poster.map { "\($0.size)" } ?? "", row.poster?.url ?? "", row.link?.url ?? "", row.link?.title ?? "",
            row.link?.description ?? "", row.link?.pictureURL ?? "", taskMsgids[row.id] ?? "",
        ]
    }

    /// A row as JSON: the CSV's columns, numbers as numbers, absent times and errors as `null`.
    private func jsonObject(_ row: DeliveryRecord) -> [String: Any] {
        var object: [String: Any] = [:]
        for (column, cell) in zip(Self.columns, cells(row)) {
            object[column] = cell.isEmpty && column != "notice_title" && column != "group_name" ? NSNull() : cell
        }
        object["attempts"] = row.attempts
        object["parts_sent"] = row.partsSent
        object["parts_total"] = row.partsTotal
        if let poster = row.poster { object["poster_size"] = poster.size }
        return object
    }

    /// The listing in `format`.
    public func rendered(as format: ReportFormat) -> String {
        switch format {
        case .csv:
            return
                ([Self.columns.joined(separator: ",")]
                + rows.map { cells($0).map(CSVField.escape).joined(separator: ",") }).joined(separator: "\n") + "\n"
        case .json:
            let objects = rows.map(jsonObject)
            let data =
                (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        case .table, .markdown:
            var shown = ["notice_id", "group_id", "state", "attempts", "sent_at", "next_at", "parts", "last_error"]
            // A poster, a card and notes only when some row has them: a text-only listing reads as before.
            if rows.contains(where: { $0.poster != nil }) {
                shown += ["poster_sha256", "poster_format", "poster_size"]
            }
            if rows.contains(where: { $0.link != nil }) { shown += ["link_url"] }
            if rows.contains(where: { $0.note != nil }) { shown += ["note"] }
            // Customer groups' task msgid only when some row went out in a task.
            if rows.contains(where: { taskMsgids[$0.id] != nil }) { shown += ["task_msgid"] }
            let indexes = shown.compactMap { Self.columns.firstIndex(of: $0) }
            let table =
                [shown.map { $0.uppercased() }]
                + rows.map { row in
                    let all = cells(row)
                    return indexes.map { all[$0] }
                }
            return TextTable.render(table) + Plural.count(rows.count, "delivery", "deliveries") + "\n"
        }
    }
}
