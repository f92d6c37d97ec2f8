import Foundation
import GridcastCore
import Ledger
import Reports

/// The audit page's HTML: the day's counts and Chinese summary, CSV downloads, the notices × groups grid, the dead
/// and in-doubt lists with their reasons (and, for the admin, the forms of the actions on them), and the 30-day
/// chart. Server-rendered; no script, no external asset.
///
/// Labels are Chinese with English in smaller type. Every string that comes from the ledger (notice titles, group
/// names, errors, ids) is escaped with ``AuditHTML/escape(_:)``. Counts carry stable ids (`count-sent`, …) and
/// are `<data value>` elements, so a reader or a test can pick them out.
struct AuditPageHTML: Sendable {
    /// Who is looking, and whether the action forms are shown.
    struct Access: Sendable, Equatable {
        /// The visitor's role.
        var role: AuditRole
        /// The session's CSRF token; nil without a session (a bearer token), which can't post forms.
        var csrfToken: String?

        /// The admin's session: the forms are shown.
        var showsActions: Bool { role == .admin && csrfToken != nil }

        /// Read-only, without a session.
        static let readOnly = Access(role: .viewer, csrfToken: nil)
    }

    /// What to show.
    var snapshot: AuditSnapshot
    /// Who is looking.
    var access: Access = .readOnly
    /// What the action just before did, if one redirected here.
    var done: AuditActionDone?

    /// The symbol and label of each delivery state in the grid and its legend.
    static let states: [(state: DeliveryState, symbol: String, chinese: String, english: String)] = [
        (.sent, "✓", "成功", "sent"), (.dead, "✗", "失败", "dead"), (.inDoubt, "?", "待核实", "in doubt"),
        (.accepted, "◌", "已受理未确认", "accepted, not confirmed"), (.retry, "↻", "重试中", "retry"),
        (.planned, "·", "待发送", "planned"), (.claimed, "→", "发送中", "claimed"),
        (.awaitingConfirmation, "⧗", "待网格员确认", "awaiting confirmation"),
        (.quotaRefused, "⊘", "超出配额", "quota refused"), (.notDelivered, "∅", "未送达", "not delivered"),
        (.expired, "⌛", "未确认已取消", "expired, not confirmed"),
    ]

    /// The whole document.
    var html: String {
        let report = snapshot.report
        return AuditHTML.document(
            title: "反诈信息发布台帐 \(report.date)",
            body: [
                header, done?.html ?? "",
                "<p class=\"summary\" id=\"summary\">\(AuditHTML.escape(report.summary))</p>", tiles, downloads,
                grid, failureList(snapshot.dead, kind: .dead), failureList(snapshot.inDoubt, kind: .inDoubt), chart,
                footer,
            ].joined(separator: "\n")
        )
    }

    private var isToday: Bool {
        snapshot.day == LocalDay(date: snapshot.generatedAt, timeZone: snapshot.day.timeZone)
    }

    private var header: String {
        let day = snapshot.day
        let next = isToday ? "" : "<a href=\"/?date=\(day.adding(days: 1))\">后一天 <small>Next day</small></a>"
        return """
            <header>
            <h1>\(AuditHTML.label("反诈信息发布台帐", "Dispatch ledger")) · <span id="day">\(day)</span> \
            <small>\(AuditHTML.escape(day.timeZone.identifier))</small></h1>
            <nav>
            <a href="/?date=\(day.adding(days: -1))">前一天 <small>Previous day</small></a>
            <a href="/">今天 <small>Today</small></a>
            \(next)
            <form class="inline" method="get" action="/"><input type="date" name="date" value="\(day)" \
            aria-label="日期 Date"> <button class="link" type="submit">查看 <small>Show</small></button></form>
            <span class="role" id="role" data-role="\(access.role.rawValue)">\(roleLabel)</span>
            <form class="inline" method="post" action="/logout">\(logoutToken)<button class="link" id="logout" \
            type="submit">退出登录 <small>Log out</small></button></form>
            </nav>
            </header>
            """
    }

    private var roleLabel: String {
        access.role == .admin ? AuditHTML.label("管理员", "Admin") : AuditHTML.label("只读", "Viewer")
    }

    private var logoutToken: String {
        access.csrfToken.map { "<input type=\"hidden\" name=\"csrf\" value=\"\(AuditHTML.escape($0))\">" } ?? ""
    }

    private var tiles: String {
        let report = snapshot.report
        let deliveries = isToday ? ("今日投递", "Deliveries today") : ("当日投递", "Deliveries that day")
        var tiles: [(id: String, style: String, value: Int, label: (String, String))] = [
            ("notices", "", report.notices, ("发布信息", "Notices")),
            ("groups", "", report.groups, ("转发群数", "Groups reached")),
            ("deliveries", "", report.deliveries, deliveries),
            ("sent", "sent", report.sent, ("成功", "Sent")),
            ("dead", "dead", report.dead, ("失败", "Dead")),
            ("in_doubt", "doubt", report.inDoubt, ("待核实", "In doubt")),
            ("pending", "", report.pending, ("待发送", "Pending")),
            ("retry", "", report.retry, ("重试中", "Retrying")),
        ]
        // Customer groups' tasks: only on a day that had one, so a webhook-only ledger reads as before.
        let customer: [(id: String, style: String, value: Int, label: (String, String))] = [
            ("tasks_created", "", report.tasksCreated, ("已创建任务", "Tasks created")),
            ("awaiting_confirmation", "", report.awaitingConfirmation, ("待网格员确认", "Awaiting the member")),
            ("quota_refused", "dead", report.quotaRefused, ("超出配额", "Quota refused")),
            ("not_delivered", "dead", report.notDelivered, ("未送达", "Not delivered")),
            ("expired", "dead", report.expired, ("未确认已取消", "Expired")),
        ]
        if customer.contains(where: { $0.value > 0 }) { tiles += customer }
        return "<section class=\"tiles\" id=\"counts\">\n"
            + tiles.map { tile in
                """
                <div class="tile \(tile.style)"><data id="count-\(tile.id)" value="\(tile.value)">\(tile.value)</data>\
                \(AuditHTML.label(tile.label.0, tile.label.1))</div>
                """
            }.joined(separator: "\n") + "\n</section>"
    }

    private var downloads: String {
        let date = snapshot.day.description
        return """
            <h2>\(AuditHTML.label("下载", "Downloads"))</h2>
            <p class="downloads">
            <a id="report-csv" href="/audit/report.csv?date=\(date)" download>\
            当日报表 CSV <small>Daily report (per group)</small></a>
            <a id="ledger-csv" href="/audit/ledger.csv?date=\(date)" download>\
            当日台帐明细 CSV <small>Ledger rows (one per delivery)</small></a>
            </p>
            """
    }

    private var legend: String {
        "<div class=\"legend\">"
            + Self.states.map {
                "<span><i class=\"s-\($0.state.rawValue)\"></i>\(AuditHTML.label($0.chinese, $0.english))</span>"
            }
            .joined() + "<span><i class=\"s-none\"></i>\(AuditHTML.label("当日无投递", "none that day"))</span></div>"
    }

    private var grid: String {
        let grid = snapshot.grid
        var out = "<h2>\(AuditHTML.label("通知 × 群 投递状态", "Notices × groups"))</h2>\n"
        guard !grid.rows.isEmpty else {
            return out + "<p class=\"empty\" id=\"grid\">当日无投递。<small>No deliveries that day.</small></p>"
        }
        out += legend
        if grid.isTruncated {
            out += """
                <p class="note" id="grid-truncated">仅显示前 \(grid.rows.count) 条信息（共 \(grid.totalNotices) 条）、\
                前 \(grid.columns.count) 个群（共 \(grid.totalGroups) 个）；完整明细请下载台帐 CSV。\
                <small>Showing \(grid.rows.count) of \(grid.totalNotices) notices and \(grid.columns.count) of \
                \(grid.totalGroups) groups; download the ledger CSV for every row.</small></p>

                """
        }
        out += "<div class=\"scroll\"><table class=\"grid\" id=\"grid\">\n<thead><tr><th></th>"
        for column in grid.columns {
            out +=
                "<th class=\"group\" scope=\"col\" title=\"\(AuditHTML.escape(column.groupName))\">"
                + "\(AuditHTML.escape(column.groupID))</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for row in grid.rows {
            out +=
                "<tr><th class=\"notice\" scope=\"row\" title=\"\(AuditHTML.escape(row.noticeID))\">"
                + "\(AuditHTML.escape(row.title.isEmpty ? row.noticeID : row.title))\(attachments(row))</th>"
            for (column, cell) in zip(grid.columns, row.cells) {
                out += self.cell(cell, group: column.groupID)
            }
            out += "</tr>\n"
        }
        return out + "</tbody></table></div>"
    }

    /// The notice's poster as a thumbnail (the recorded image, `/audit/poster/{id}`) and its card as a link.
    private func attachments(_ row: AuditGrid.Row) -> String {
        var out = ""
        if row.hasPoster {
            let id = row.noticeID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? row.noticeID
            out +=
                " <a class=\"poster\" href=\"/audit/poster/\(AuditHTML.escape(id))\">"
                + "<img src=\"/audit/poster/\(AuditHTML.escape(id))\" alt=\"海报 poster\" height=\"40\"></a>"
        }
        if let link = row.link {
            out +=
                " <a class=\"card\" href=\"\(AuditHTML.escape(link.url))\" rel=\"noopener noreferrer\" "
                + "title=\"\(AuditHTML.escape(link.description))\">🔗 \(AuditHTML.escape(link.title))</a>"
        }
        return out
    }

    private func cell(_ cell: AuditGrid.Cell?, group: String) -> String {
        guard let cell else { return "<td class=\"s-none\" title=\"\(AuditHTML.escape(group))\"></td>" }
        let symbol = Self.states.first { $0.state == cell.state }?.symbol ?? ""
        var title = "\(group) · \(cell.state.rawValue) · attempts \(cell.attempts)"
        if let error = cell.lastError, !error.isEmpty {
            title += " · \(FailureReason.chinese(error, sink: cell.sink, inDoubt: cell.state == .inDoubt))"
        }
        return "<td class=\"s-\(cell.state.rawValue)\" title=\"\(AuditHTML.escape(title))\">\(symbol)</td>"
    }

    private func failureList(_ rows: [DeliveryRecord], kind: AuditFailureList.Kind) -> String {
        AuditFailureList(
            rows: rows, kind: kind, total: kind == .dead ? snapshot.report.dead : snapshot.report.inDoubt,
            csrfToken: access.showsActions ? access.csrfToken : nil, day: snapshot.day
        ).html
    }

    private var chart: String {
        let days = snapshot.series.count
        return """
            <h2>\(AuditHTML.label("近\(days)日每日投递", "Deliveries per day, last \(days) days"))</h2>
            <div class="legend"><span><i class="s-sent"></i>\(AuditHTML.label("成功", "sent"))</span>\
            <span><i class="s-dead"></i>\(AuditHTML.label("失败", "dead"))</span>\
            <span><i class="s-in_doubt"></i>\(AuditHTML.label("待核实", "in doubt"))</span>\
            <span><i class="s-planned"></i>\(AuditHTML.label("未完成", "not settled"))</span></div>
            <div class="scroll">\(AuditChart(days: snapshot.series).svg)</div>
            """
    }

    private var footer: String {
        """
        <footer>生成于 \(AuditHTML.escape(AuditTime.stamp(snapshot.generatedAt, in: snapshot.day.timeZone)))\
        （\(AuditHTML.escape(snapshot.day.timeZone.identifier))）。\
        计数与 <code>gridcast report daily --date \(snapshot.day)</code> 相同：一次投递计入其最近一次状态变化的日期。\
        <small>Generated \(AuditHTML.escape(AuditTime.stamp(snapshot.generatedAt, in: snapshot.day.timeZone))). The counts are those of \
        gridcast report daily for the same day: a delivery counts on the day of its latest state change.</small>\
        </footer>
        """
    }
}
