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

    /// How a listing is written.
    public enum Format: String, Sendable, CaseIterable {
        /// Aligned columns for a terminal, with a count at the end.
        case table
        /// One line per delivery under a header line, every column.
        case csv
        /// One JSON array of objects.
        case json
        /// One JSON object per line (JSON Lines): each line parses on its own.
        case jsonl
    }

    static let columns = [
        "notice_id", "notice_title", "group_id", "group_name", "sink", "state", "attempts", "first_attempt_at",
        "last_attempt_at", "sent_at", "next_at", "parts", "last_error", "note", "poster_sha256", "poster_format",
        "poster_size", "image_url", "link_url", "link_title", "link_description", "link_picurl", "task_msgid",
    ]

    /// The listing in `format`, as one text.
    public func rendered(as format: ReportFormat) -> String {
        let listed: Format =
            switch format {
            case .csv: .csv
            case .json: .json
            case .table, .markdown: .table
            }
        var writer = LedgerListingWriter(format: listed, timeZone: timeZone)
        return writer.opening + writer.page(rows, taskMsgids: taskMsgids) + writer.closing
    }
}

/// Writes a listing page by page, as the pages are read: memory holds one page, whatever the listing's size
/// (`gridcast ledger list`). CSV and JSON Lines read the same as one text would; a table takes its columns and
/// their widths from the first page.
public struct LedgerListingWriter {
    /// The format written.
    public let format: LedgerListing.Format
    /// How many rows were written so far.
    public private(set) var count = 0
    private var clock: ListingTime
    /// The table's columns (indexes into ``LedgerListing/columns``) and their widths, from the first page.
    private var table: (shown: [Int], widths: [Int])?

    /// A writer of `format`, times in `timeZone`.
    public init(format: LedgerListing.Format, timeZone: TimeZone) {
        self.format = format
        clock = ListingTime(timeZone: timeZone)
    }

    /// What the listing starts with.
    public var opening: String {
        switch format {
        case .csv: LedgerListing.columns.joined(separator: ",") + "\n"
        case .json: "["
        case .table, .jsonl: ""
        }
    }

    /// The text of the next page's `rows`; `taskMsgids` holds the task msgid of customer groups' rows among them.
    public mutating func page(_ rows: [DeliveryRecord], taskMsgids: [String: String] = [:]) -> String {
        defer { count += rows.count }
        var text = ""
        switch format {
        case .csv:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(rows.count * 200)
            for row in rows {
                for (index, cell) in cells(row, taskMsgids).enumerated() {
                    if index > 0 { bytes.append(0x2C) }
                    bytes.append(contentsOf: CSVField.escape(cell).utf8)
                }
                bytes.append(0x0A)
            }
            text = String(decoding: bytes, as: UTF8.self)
        case .json, .jsonl:
            for (index, row) in rows.enumerated() {
                let object = jsonObject(row, taskMsgids)
                if format == .jsonl {
                    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
                    text += String(decoding: data, as: UTF8.self) + "\n"
                } else {
                    let data =
                        (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]))
                        ?? Data()
                    let indented = String(decoding: data, as: UTF8.self).split(
                        separator: "\n", omittingEmptySubsequences: false
                    )
                    .map { "  " + $0 }.joined(separator: "\n")
                    text += (count + index == 0 ? "\n" : ",\n") + indented
                }
            }
        case .table:
            let all = rows.map { cells($0, taskMsgids) }
            if table == nil {
                let shown = tableColumns(rows, taskMsgids).compactMap { LedgerListing.columns.firstIndex(of: $0) }
                let widths = shown.map { column in
                    ([TextTable.width(LedgerListing.columns[column].uppercased())]
                        + all.map { TextTable.width($0[column]) })
                        .max() ?? 0
                }
                table = (shown, widths)
                text += line(shown.map { LedgerListing.columns[$0].uppercased() }, widths: widths)
            }
            let (shown, widths) = table!
            for cells in all { text += line(shown.map { cells[$0] }, widths: widths) }
        }
        return text
    }

    /// What the listing ends with, once every page is written.
    public var closing: String {
        switch format {
        case .json: count == 0 ? "]\n" : "\n]\n"
        case .table: Plural.count(count, "delivery", "deliveries") + "\n"
        case .csv, .jsonl: ""
        }
    }

    /// A table's columns: a poster, a card, notes and task msgids only when some row of the first page has them, so a
    /// text-only listing reads as it always did.
    private func tableColumns(_ rows: [DeliveryRecord], _ taskMsgids: [String: String]) -> [String] {
        var shown = ["notice_id", "group_id", "state", "attempts", "sent_at", "next_at", "parts", "last_error"]
        if rows.contains(where: { $0.poster != nil }) { shown += ["poster_sha256", "poster_format", "poster_size"] }
        if rows.contains(where: { $0.link != nil }) { shown += ["link_url"] }
        if rows.contains(where: { $0.note != nil }) { shown += ["note"] }
        if rows.contains(where: { taskMsgids[$0.id] != nil }) { shown += ["task_msgid"] }
        return shown
    }

    /// One table line: every cell but the last padded to its column's width and two spaces.
    private func line(_ cells: [String], widths: [Int]) -> String {
        var text = ""
        for (index, cell) in cells.enumerated() {
            text += cell
            if index < cells.count - 1 {
                text += String(repeating: " ", count: max(0, widths[index] - TextTable.width(cell)) + 2)
            }
        }
        return text + "\n"
    }

    private mutating func cells(_ row: DeliveryRecord, _ taskMsgids: [String: String]) -> [String] {
        func time(_ date: Date?) -> String { date.map { clock.string($0) } ?? "" }
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
    private mutating func jsonObject(_ row: DeliveryRecord, _ taskMsgids: [String: String]) -> [String: Any] {
        var object: [String: Any] = [:]
        for (column, cell) in zip(LedgerListing.columns, cells(row, taskMsgids)) {
            object[column] = cell.isEmpty && column != "notice_title" && column != "group_name" ? NSNull() : cell
        }
        object["attempts"] = row.attempts
        object["parts_sent"] = row.partsSent
        object["parts_total"] = row.partsTotal
        if let poster = row.poster { object["poster_size"] = poster.size }
        return object
    }
}
