import Foundation

/// Output formats for reports.
public enum ReportFormat: String, Sendable, CaseIterable {
    case table, json, csv, markdown
}

extension PeriodReport {
    /// The report in `format`.
    public func rendered(as format: ReportFormat) -> String {
        switch format {
        case .json: json
        case .csv: csv
        case .table: table
        case .markdown: markdown
        }
    }

    /// The period's name for headings: `2026-11-29`, `2026-11-23 – 2026-11-29`, `2026-11`.
    var title: String {
        switch period {
        case .day: "Daily report \(date)"
        case .week: "Weekly report \(from) – \(to)"
        case .month: "Monthly report \(from.prefix(7))"
        }
    }

    /// Ready to paste into a work summary: the Chinese summary, the days, the groups, the failures.
    public var markdown: String {
        var out = "## 反诈信息发布台帐 \(title.split(separator: " ").dropFirst(2).joined(separator: " "))\n\n\(summary)\n\n"
        if byDay.count > 1 {
            out += "| 日期 | 发布条数 | 转发群数 | 投递 | 成功 | 失败 | 待核实 |\n|---|---:|---:|---:|---:|---:|---:|\n"
            for day in byDay {
                out +=
                    "| \(day.date) | \(day.notices) | \(day.groups) | \(day.deliveries) | \(day.sent) | \(day.dead) | \(day.inDoubt) |\n"
            }
            out += "\n"
        }
        out += "| 群 | 名称 | 平台 | 投递 | 成功 | 失败 | 待核实 |\n|---|---|---|---:|---:|---:|---:|\n"
        for row in byGroup {
            out +=
                "| \(row.groupID) | \(row.groupName) | \(row.sink) | \(row.deliveries) | \(row.sent) | \(row.dead) | \(row.inDoubt) |\n"
        }
        if !failures.isEmpty {
            out += "\n**未送达 / 待核实**\n\n"
            for failure in failures {
                out += "- \(failure.groupID) · \(failure.noticeID) · \(failure.state)：\(failure.reason)\n"
            }
        }
        return out
    }

    /// Pretty JSON with stable key order.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// One row per group, with the day's totals as a last `TOTAL` row.
    public var csv: String {
        var lines = ["date,group_id,group_name,sink,deliveries,sent,dead,in_doubt"]
        for row in byGroup {
            lines.append(
                [
                    date, row.groupID, row.groupName, row.sink, "\(row.deliveries)", "\(row.sent)", "\(row.dead)",
                    "\(row.inDoubt)",
                ]
                .map(CSVField.escape).joined(separator: ",")
            )
        }
        lines.append(
            [date, "TOTAL", "", "", "\(deliveries)", "\(sent)", "\(dead)", "\(inDoubt)"].joined(separator: ","))
        return lines.joined(separator: "\n") + "\n"
    }

    /// An aligned table per group, the failures with their reasons, and the Chinese summary line last.
    public var table: String {
        var rows: [[String]] = [["GROUP", "NAME", "SINK", "DELIVERIES", "SENT", "DEAD", "IN_DOUBT"]]
        for row in byGroup {
            rows.append([
                row.groupID, row.groupName, row.sink, "\(row.deliveries)", "\(row.sent)", "\(row.dead)",
                "\(row.inDoubt)",
            ])
        }
        var out = "\(title) (\(timezone))\n\n"
        if byDay.count > 1 {
            var days: [[String]] = [["DAY", "NOTICES", "GROUPS", "DELIVERIES", "SENT", "DEAD", "IN_DOUBT"]]
            for day in byDay {
                days.append([
                    day.date, "\(day.notices)", "\(day.groups)", "\(day.deliveries)", "\(day.sent)", "\(day.dead)",
                    "\(day.inDoubt)",
                ])
            }
            out += TextTable.render(days) + "\n"
        }
        out += TextTable.render(rows)
        if !failures.isEmpty {
            out += "\nFailures:\n"
            for failure in failures {
                out +=
                    "  \(failure.groupID)  \(failure.noticeID)  \(failure.state) after \(failure.attempts) attempt(s): \(failure.reason)\n"
            }
        }
        out += "\n" + summary + "\n"
        return out
    }
}

/// RFC 4180 field quoting.
enum CSVField {
    static func escape(_ field: String) -> String {
        // A cell starting with = + - @ (or a tab or CR) is a formula to a spreadsheet: a notice title or a
        // platform's error text must never run as one when the secretary opens the CSV. A leading ' keeps it text.
        var field = field
        if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { field = "'" + field }
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Column-aligned plain text; CJK characters count as two columns.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        let widths = (0..<columns).map { column in rows.map { width($0[column]) }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == columns - 1 ? cell : cell + String(repeating: " ", count: widths[index] - width(cell) + 2)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) {
            $0
                + ($1.value >= 0x1100 && $1.properties.isIdeographic || (0xFF00...0xFFEF).contains($1.value)
                    || (0x3000...0x303F).contains($1.value) ? 2 : 1)
        }
    }
}
