import Foundation
import Ledger

/// Output formats for reports.
public enum ReportFormat: String, Sendable, CaseIterable {
    case table, json, csv, markdown

    /// The UTF-8 byte order mark a CSV file starts with, so Excel reads it as UTF-8 and not the system code page.
    public static let byteOrderMark = "\u{FEFF}"
}

extension PeriodReport {
    /// The report in `format`; days without any delivery are left out of the table and markdown formats unless
    /// `allDays` (JSON and CSV always hold every day).
    public func rendered(as format: ReportFormat, allDays: Bool = false) -> String {
        var bytes: [UInt8] = []
        write(as: format, allDays: allDays) { bytes += $0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the report in `format` (as ``rendered(as:allDays:)`` would) to `output` in pieces of about 64 KiB as
    /// it is made: a city's hundred thousand group rows are never one text in memory.
    public func write(as format: ReportFormat, allDays: Bool = false, to output: @escaping ([UInt8]) -> Void) {
        var out = ReportText(output: output)
        switch format {
        case .json: writeJSON(to: &out)
        case .csv: writeCSV(to: &out)
        case .table: writeTable(allDays: allDays, to: &out)
        case .markdown: writeMarkdown(allDays: allDays, to: &out)
        }
        out.flush()
    }

    /// The period's name for headings: `2026-11-29`, `2026-11-23 – 2026-11-29`, `2026-11`, `2026`.
    var title: String {
        switch period {
        case .day: "Daily report \(date)"
        case .week: "Weekly report \(from) – \(to)"
        case .month: "Monthly report \(from.prefix(7))"
        case .year: "Yearly report \(from.prefix(4))"
        case .range: from == to ? "Report \(from)" : "Report \(from) – \(to)"
        }
    }

    /// Which customer-group outcomes (indexes into ``customerGroupCounts``) the table and markdown show: those some
    /// delivery of the period had.
    var customerGroupColumns: [Int] { customerGroupCounts.indices.filter { customerGroupCounts[$0].count > 0 } }

    /// The days a table shows: in a week or month, those with deliveries (or all of them when asked).
    func shownDays(allDays: Bool) -> [DayRow] {
        guard byDay.count > 1 else { return [] }
        return allDays ? byDay : byDay.filter { $0.deliveries > 0 }
    }

    /// Ready to paste into a work summary: the Chinese summary, the days, the notices, the groups, the failures.
    public func markdown(allDays: Bool = false) -> String { rendered(as: .markdown, allDays: allDays) }

    func writeMarkdown(allDays: Bool, to out: inout ReportText) {
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        var heading = title.split(separator: " ").dropFirst(2).joined(separator: " ")
        if let selector { heading += "（\(selector)）" }
        out += "## 反诈信息发布台帐 \(heading)\n\n\(summary)\n\n"
        // 已受理未确认 only where a platform that confirms nothing (Teams) took part.
        let withAccepted = accepted > 0
        // The customer-group outcomes likewise, each only where some delivery had it.
        let shownOutcomes = customerGroupColumns
        func acceptedCell(_ count: Int, _ row: some CustomerGroupCounted) -> String {
            (withAccepted ? " \(count) |" : "") + shownOutcomes.map { " \(row.customerGroupCells[$0]) |" }.joined()
        }
        let acceptedHead =
            (withAccepted ? " 已受理未确认 |" : "")
            + shownOutcomes.map { " \(customerGroupCounts[$0].label) |" }.joined()
        let acceptedRule = (withAccepted ? "---:|" : "") + String(repeating: "---:|", count: shownOutcomes.count)
        let days = shownDays(allDays: allDays)
        if !days.isEmpty {
            out += "| 日期 | 发布条数 | 转发群数 | 投递 | 成功 | 失败 | 待核实 | 待发送 |\(acceptedHead)\n"
            out += "|---|---:|---:|---:|---:|---:|---:|---:|\(acceptedRule)\n"
            for day in days {
                out +=
                    "| \(day.date) | \(day.notices) | \(day.groups) | \(day.deliveries) | \(day.sent) | \(day.dead) | "
                    + "\(day.inDoubt) | \(day.queued) |\(acceptedCell(day.accepted, day))\n"
            }
            out += "\n"
        }
        if !byNotice.isEmpty {
            out += "| 信息 | 标题 | 转发群数 | 投递 | 成功 | 失败 | 待核实 | 待发送 |\(acceptedHead)\n"
            out += "|---|---|---:|---:|---:|---:|---:|---:|\(acceptedRule)\n"
            for row in byNotice {
                out +=
                    "| \(cell(row.noticeID)) | \(cell(row.title)) | \(row.groups) | \(row.deliveries) | \(row.sent) | "
                    + "\(row.dead) | \(row.inDoubt) | \(row.queued) |\(acceptedCell(row.accepted, row))\n"
            }
            out += "\n"
        }
        out += "| 群 | 名称 | 平台 | 投递 | 成功 | 失败 | 待核实 | 待发送 |\(acceptedHead)\n"
        out += "|---|---|---|---:|---:|---:|---:|---:|\(acceptedRule)\n"
        for row in byGroup {
            out +=
                "| \(row.groupID) | \(cell(row.groupName)) | \(row.sink) | \(row.deliveries) | \(row.sent) | \(row.dead) | "
                + "\(row.inDoubt) | \(row.queued) |\(acceptedCell(row.accepted, row))\n"
        }
        if !failures.isEmpty {
            out += "\n**未送达 / 待核实**\n\n"
            for failure in failures {
                out +=
                    "- \(failure.groupLabel) ·《\(failure.titleLabel)》：\(failure.stateChinese)，\(failure.reasonChinese)\n"
            }
        }
        if let idle = idleGroups {
            out += "\n**本期未收到信息的群（\(idle.count) 个）**\n\n"
            for group in idle { out += "- \(IdleGroup.label(group))\n" }
        }
    }

    /// Pretty JSON with stable key order: what `JSONEncoder` makes of the report with `.prettyPrinted, .sortedKeys,
    /// .withoutEscapingSlashes`, and a line break.
    public var json: String { rendered(as: .json) }

    /// One row per group, with the period's totals as a last `TOTAL` row; `queued` is 待发送 (not yet settled),
    /// `accepted` 已受理未确认 (taken by a platform that confirms nothing), then the customer-group outcomes, and
    /// `tasks_created` (已创建任务) in the `TOTAL` row only (a task spans groups).
    public var csv: String { rendered(as: .csv) }

    func writeCSV(to out: inout ReportText) {
        out += "date,group_id,group_name,sink,deliveries,sent,dead,in_doubt,queued,accepted,awaiting_confirmation,"
        out += "quota_refused,not_delivered,expired,tasks_created\n"
        let day = CSVField.escape(date)
        for row in byGroup {
            out +=
                "\(day),\(CSVField.escape(row.groupID)),\(CSVField.escape(row.groupName)),\(CSVField.escape(row.sink)),"
            out += "\(row.deliveries),\(row.sent),\(row.dead),\(row.inDoubt),\(row.queued),\(row.accepted),"
            out += "\(row.awaitingConfirmation),\(row.quotaRefused),\(row.notDelivered),\(row.expired),\n"
        }
        out += "\(date),TOTAL,,,\(deliveries),\(sent),\(dead),\(inDoubt),\(queued),\(accepted),"
        out += customerGroupCounts.map { "\($0.count)," }.joined() + "\(tasksCreated)\n"
    }

    /// Aligned tables of the days, notices and groups, the failures with their reasons, the idle groups when asked,
    /// and the Chinese summary line last.
    public func table(allDays: Bool = false) -> String { rendered(as: .table, allDays: allDays) }

    func writeTable(allDays: Bool, to out: inout ReportText) {
        out += "\(title)\(selector.map { " for \($0)" } ?? "") (\(timezone))\n\n"
        // ACCEPTED only where a platform that confirms nothing (Teams) took part.
        // The customer-group outcomes likewise, each only where some delivery had it.
        let shownOutcomes = customerGroupColumns
        func columns(_ row: [String], accepted: String, outcomes: [String]) -> [String] {
            (self.accepted > 0 ? row + [accepted] : row) + shownOutcomes.map { outcomes[$0] }
        }
        let headers = ["AWAITING", "QUOTA_REFUSED", "NOT_DELIVERED", "EXPIRED"]
        let shown = shownDays(allDays: allDays)
        if !shown.isEmpty {
            var days = [
                columns(
                    ["DAY", "NOTICES", "GROUPS", "DELIVERIES", "SENT", "DEAD", "IN_DOUBT", "QUEUED"],
                    accepted: "ACCEPTED", outcomes: headers)
            ]
            for day in shown {
                days.append(
                    columns(
                        [
                            day.date, "\(day.notices)", "\(day.groups)", "\(day.deliveries)", "\(day.sent)",
                            "\(day.dead)", "\(day.inDoubt)", "\(day.queued)",
                        ], accepted: "\(day.accepted)", outcomes: day.customerGroupCells.map { "\($0)" }))
            }
            TextTable.write(days[0], days.dropFirst(), to: &out)
            out += "\n"
        }
        if !byNotice.isEmpty {
            var notices = [
                columns(
                    ["NOTICE", "TITLE", "GROUPS", "DELIVERIES", "SENT", "DEAD", "IN_DOUBT", "QUEUED"],
                    accepted: "ACCEPTED", outcomes: headers)
            ]
            for row in byNotice {
                notices.append(
                    columns(
                        [
                            row.noticeID, row.title, "\(row.groups)", "\(row.deliveries)", "\(row.sent)", "\(row.dead)",
                            "\(row.inDoubt)", "\(row.queued)",
                        ], accepted: "\(row.accepted)", outcomes: row.customerGroupCells.map { "\($0)" }))
            }
            TextTable.write(notices[0], notices.dropFirst(), to: &out)
            out += "\n"
        }
        let heading = columns(
            ["GROUP", "NAME", "SINK", "DELIVERIES", "SENT", "DEAD", "IN_DOUBT", "QUEUED"], accepted: "ACCEPTED",
            outcomes: headers)
        // The group rows made twice, for the widths and for the lines, rather than held: a city has 100,000.
        let groupRows = byGroup.lazy.map { row in
            columns(
                [
                    row.groupID, row.groupName, row.sink, "\(row.deliveries)", "\(row.sent)", "\(row.dead)",
                    "\(row.inDoubt)", "\(row.queued)",
                ], accepted: "\(row.accepted)", outcomes: row.customerGroupCells.map { "\($0)" })
        }
        TextTable.write(heading, groupRows, to: &out)
        if tasksCreated > 0 { out += "\nCustomer-group tasks created: \(tasksCreated)\n" }
        if !failures.isEmpty {
            out += "\nFailures:\n"
            for failure in failures {
                let attempts = Plural.count(failure.attempts, "attempt", "attempts")
                var reason = failure.reasonChinese
                if reason != failure.reason { reason += " (\(failure.reason))" }
                out +=
                    "  \(failure.groupLabel)  《\(failure.titleLabel)》  \(failure.state) after \(attempts): \(reason)\n"
            }
        }
        if let idle = idleGroups {
            out += "\n\(Plural.count(idle.count, "group", "groups")) received nothing:\n"
            for group in idle { out += "  \(IdleGroup.label(group))\n" }
        }
        out += "\n" + summary + "\n"
    }
}

extension PeriodReport.Failure {
    /// `凌水社区第1网格群（lingshui-01）`, or the id alone when the group has no name of its own.
    var groupLabel: String { PeriodReport.IdleGroup.label(.init(groupID: groupID, groupName: groupName)) }
    /// The notice's title, or its id when it has none.
    var titleLabel: String { noticeTitle.isEmpty ? noticeID : noticeTitle }
    /// 失败 for dead, 待核实 for in doubt, and the customer-group outcomes' own words.
    var stateChinese: String {
        switch DeliveryState(rawValue: state) {
        case .dead: "失败"
        case .quotaRefused: "超出配额"
        case .notDelivered: "未送达"
        case .expired: "未确认已取消"
        default: "待核实"
        }
    }
}

extension PeriodReport.IdleGroup {
    /// `name（id）`, or the id alone.
    static func label(_ group: Self) -> String {
        group.groupName.isEmpty || group.groupName == group.groupID
            ? group.groupID : "\(group.groupName)（\(group.groupID)）"
    }
}

/// RFC 4180 field quoting.
enum CSVField {
    static func escape(_ field: String) -> String {
        // A cell starting with = + - @ (or a tab or CR) is a formula to a spreadsheet: a notice title or a
        // platform's error text must never run as one when the secretary opens the CSV. A leading ' keeps it text.
        var field = field
        if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { field = "'" + field }
        // Bytes, not characters: a `\r\n` inside a field is one character, equal to neither `\r` nor `\n`.
        guard field.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Column-aligned plain text; CJK characters count as two columns.
enum TextTable {
    /// Writes `heading` and `rows` aligned, reading the rows twice: once for the columns' widths, once to write them.
    static func write(_ heading: [String], _ rows: some Sequence<[String]>, to out: inout ReportText) {
        var widths = heading.map(width)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], width(cell)) }
        }
        func line(_ row: [String], to out: inout ReportText) {
            for (index, cell) in row.enumerated() {
                out +=
                    index == row.count - 1
                    ? cell : cell + String(repeating: " ", count: widths[index] - width(cell) + 2)
            }
            out += "\n"
        }
        line(heading, to: &out)
        for row in rows { line(row, to: &out) }
    }

    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) {
            $0
                + ($1.value >= 0x1100 && $1.properties.isIdeographic || (0xFF00...0xFFEF).contains($1.value)
                    || (0x3000...0x303F).contains($1.value) ? 2 : 1)
        }
    }
}

/// Counted nouns: `1 group`, `2 groups`.
public enum Plural {
    /// `count` followed by the singular or plural form.
    public static func count(_ count: Int, _ singular: String, _ plural: String) -> String {
        "\(count) \(count == 1 ? singular : plural)"
    }
}

/// Text that goes out in pieces of about 64 KiB as it is appended.
struct ReportText {
    private var bytes: [UInt8] = []
    private let output: ([UInt8]) -> Void

    /// Text handed to `output` piece by piece.
    init(output: @escaping ([UInt8]) -> Void) {
        self.output = output
        bytes.reserveCapacity(1 << 16)
    }

    /// Appends `piece`.
    static func += (text: inout ReportText, piece: String) {
        text.bytes += piece.utf8
        if text.bytes.count >= 1 << 16 { text.flush() }
    }

    /// Appends `piece`.
    mutating func append(_ piece: [UInt8]) {
        bytes += piece
        if bytes.count >= 1 << 16 { flush() }
    }

    /// Hands what is appended to the output.
    mutating func flush() {
        guard !bytes.isEmpty else { return }
        output(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
