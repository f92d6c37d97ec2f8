import Foundation
import GridcastCore
import Ledger
import Reports

/// The audit page's list of the day's `dead` or `in_doubt` deliveries, one `<tbody>` per notice, each failure with
/// its reason in Chinese (``FailureReason/chinese(_:sink:)``, as the reports give it) over the stored one; for an
/// in_doubt delivery, the time window in which to look for the message in its group.
///
/// For the admin, each notice's rows have checkboxes and an action form under them (retry the dead ones; resolve
/// the in_doubt ones as sent or resend), which posts to the confirmation step; a viewer gets the list alone.
struct AuditFailureList: Sendable {
    /// Which list.
    enum Kind: Sendable {
        case dead
        case inDoubt
    }

    /// The deliveries, by notice then group: the first of them, when there are more than a page shows.
    var rows: [DeliveryRecord]
    var kind: Kind
    /// How many there are in all (the day's report counts them).
    var total: Int
    /// The CSRF token of the admin's session, when the forms are shown; nil for a read-only list.
    var csrfToken: String?
    /// The day shown, to come back to.
    var day: LocalDay

    private var id: String { kind == .dead ? "dead-list" : "in-doubt-list" }

    /// The heading and the table.
    var html: String {
        let label = kind == .dead ? ("失败", "Dead") : ("待核实", "In doubt — check the group")
        var out = "<h2>\(AuditHTML.label(label.0, label.1)) (\(max(total, rows.count)))</h2>\n"
        guard !rows.isEmpty else {
            return out + "<p class=\"empty\" id=\"\(id)\">无 <small>None</small></p>"
        }
        let shown = Array(rows.prefix(AuditSnapshot.maxListed))
        let total = max(total, rows.count)
        if shown.count < total {
            out +=
                "<p class=\"note\">仅显示前 \(shown.count) 条（共 \(total) 条）。"
                + "<small>Showing \(shown.count) of \(total).</small></p>\n"
        }
        let timeHeader =
            kind == .dead
            ? AuditHTML.label("最后尝试", "Last attempt") : AuditHTML.label("请在群里查看的时间段", "Look in the chat between")
        out += "<table class=\"list\" id=\"\(id)\"><thead><tr>"
        if csrfToken != nil { out += "<th>\(AuditHTML.label("选择", "Pick"))</th>" }
        out += """
            <th>\(AuditHTML.label("信息", "Notice"))</th><th>\(AuditHTML.label("群", "Group"))</th>\
            <th>\(AuditHTML.label("尝试", "Attempts"))</th><th>\(timeHeader)</th>\
            <th>\(AuditHTML.label("原因", "Reason"))</th></tr></thead>

            """
        var start = 0
        var index = 0
        while start < shown.count {
            let noticeID = shown[start].noticeID
            let end = shown[start...].firstIndex { $0.noticeID != noticeID } ?? shown.count
            out += notice(Array(shown[start..<end]), formID: "\(id)-action-\(index)")
            start = end
            index += 1
        }
        return out + "</table>"
    }

    /// One notice's rows, and its action form for the admin.
    private func notice(_ rows: [DeliveryRecord], formID: String) -> String {
        let timeZone = day.timeZone
        var out = "<tbody class=\"notice\" data-notice=\"\(AuditHTML.escape(rows[0].noticeID))\">\n"
        for row in rows {
            out += "<tr class=\"delivery\" data-group=\"\(AuditHTML.escape(row.groupID))\">"
            if csrfToken != nil {
                out += """
                    <td><input type="checkbox" name="group" value="\(AuditHTML.escape(row.groupID))" \
                    form="\(formID)" checked aria-label="\(AuditHTML.escape("选择 \(row.groupName) \(row.groupID)"))">\
                    </td>
                    """
            }
            let time =
                kind == .dead
                ? AuditHTML.escape(AuditTime.stamp(row.lastAttemptAt ?? row.updatedAt, in: timeZone))
                : AuditTime.doubtWindowHTML(of: row, in: timeZone)
            out += """
                <td>\(AuditHTML.escape(row.noticeTitle)) <small>\(AuditHTML.escape(row.noticeID))</small></td>\
                <td>\(AuditHTML.escape(row.groupName)) <small>\(AuditHTML.escape(row.groupID))</small></td>\
                <td>\(row.attempts)</td><td class="time">\(time)</td><td class="reason">\(reason(row))</td></tr>

                """
        }
        if let csrfToken { out += actionRow(noticeID: rows[0].noticeID, formID: formID, csrfToken: csrfToken) }
        return out + "</tbody>\n"
    }

    /// The Chinese reason, and the stored one under it when they differ.
    private func reason(_ row: DeliveryRecord) -> String {
        let stored = row.lastError ?? ""
        let chinese = FailureReason.chinese(stored, sink: row.sink, inDoubt: row.state == .inDoubt)
        guard chinese != stored else { return "<span class=\"zh\">\(AuditHTML.escape(stored))</span>" }
        return "<span class=\"zh\">\(AuditHTML.escape(chinese))</span><br><small>\(AuditHTML.escape(stored))</small>"
    }

    /// The form under a notice's rows: its ticked groups go to the confirmation step.
    private func actionRow(noticeID: String, formID: String, csrfToken: String) -> String {
        let path = kind == .dead ? "/audit/retry" : "/audit/resolve"
        let choice =
            kind == .dead
            ? ""
            : """
            <span class="choice"><label><input type="radio" name="as" value="sent" required> \
            \(AuditHTML.label("已在群里：记为已发送", "It is in the chat: mark sent"))</label> \
            <label><input type="radio" name="as" value="resend" required> \
            \(AuditHTML.label("不在群里：重新发送", "It is not: send again"))</label></span>
            """
        let button =
            kind == .dead
            ? AuditHTML.label("重新发送所选…", "Retry selected…") : AuditHTML.label("核实所选…", "Resolve selected…")
        return """
            <tr class="action"><td colspan="6"><form class="action" id="\(formID)" method="post" action="\(path)">\
            <input type="hidden" name="csrf" value="\(AuditHTML.escape(csrfToken))">\
            <input type="hidden" name="notice" value="\(AuditHTML.escape(noticeID))">\
            <input type="hidden" name="date" value="\(day)">\(choice) \
            <label>\(AuditHTML.label("备注", "Note")) <input type="text" name="note" \
            maxlength="\(AuditActionRequest.maxNoteLength)" placeholder="为何（记入台帐）"></label> \
            <button type="submit" class="primary">\(button)</button></form></td></tr>

            """
    }
}
