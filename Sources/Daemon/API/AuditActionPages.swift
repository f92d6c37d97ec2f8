import Foundation
import Ledger

/// The pages of the audit page's actions: the confirmation that lists what will change, and the refusals.
enum AuditActionPages {
    /// The confirmation step: the notice, every group (name and id) whose delivery will change, the resolution and
    /// the note, and a form that posts the same fields again with `confirm=yes`. Nothing has changed yet.
    static func confirmation(
        _ request: AuditActionRequest, rows: [DeliveryRecord], csrfToken: String, timeZone: TimeZone
    ) -> String {
        let notice = rows.first.map { $0.noticeTitle.isEmpty ? $0.noticeID : $0.noticeTitle } ?? request.noticeID
        let count = rows.count
        let (path, question, english, button): (String, String, String, String)
        var resolution = ""
        switch request.kind {
        case .retry:
            path = "/audit/retry"
            question = "以下 \(count) 个群的失败投递将重新发送（同一条投递，尝试次数清零）："
            english = "The dead deliveries to these \(count) groups will be sent again (same rows, attempts reset):"
            button = AuditHTML.label("确认重新发送", "Confirm: send again")
        case .resolve(.sent):
            resolution = "sent"
            question = "以下 \(count) 个群的待核实投递将记为已发送（消息已在群里）："
            english = "The in-doubt deliveries to these \(count) groups will be recorded as sent (it is in the chat):"
            button = AuditHTML.label("确认记为已发送", "Confirm: mark as sent")
            path = "/audit/resolve"
        case .resolve(.resend):
            resolution = "resend"
            question = "以下 \(count) 个群的待核实投递将重新发送（消息不在群里）："
            english = "The in-doubt deliveries to these \(count) groups will be sent again (it is not in the chat):"
            button = AuditHTML.label("确认重新发送", "Confirm: send again")
            path = "/audit/resolve"
        }
        let isResolve = !resolution.isEmpty
        var table = """
            <table class="list" id="confirm-groups"><thead><tr><th>\(AuditHTML.label("群", "Group"))</th>\
            <th>\(AuditHTML.label("群 ID", "Group id"))</th><th>\(AuditHTML.label("现状", "Now"))</th>
            """
        table +=
            isResolve
            ? "<th>\(AuditHTML.label("请在群里查看的时间段", "Look in the chat between"))</th></tr></thead><tbody>\n"
            : "</tr></thead><tbody>\n"
        for row in rows {
            table += """
                <tr class="target" data-group="\(AuditHTML.escape(row.groupID))">\
                <td class="name">\(AuditHTML.escape(row.groupName))</td><td class="id">\(AuditHTML.escape(row.groupID))\
                </td><td>\(AuditHTML.escape(row.state.rawValue))</td>
                """
            if isResolve { table += "<td>\(AuditTime.doubtWindowHTML(of: row, in: timeZone))</td>" }
            table += "</tr>\n"
        }
        table += "</tbody></table>"
        var hidden = [("csrf", csrfToken), ("notice", request.noticeID), ("note", request.note), ("confirm", "yes")]
        if isResolve { hidden.append(("as", resolution)) }
        if let date = request.date { hidden.append(("date", date)) }
        hidden += request.groupIDs.map { ("group", $0) }
        let fields = hidden.map {
            "<input type=\"hidden\" name=\"\(AuditHTML.escape($0.0))\" value=\"\(AuditHTML.escape($0.1))\">"
        }.joined(separator: "\n")
        let note =
            request.note.isEmpty
            ? "<p>备注：（无）<small>Note: none</small></p>"
            : "<p>备注 <small>Note</small>：<q id=\"confirm-note\">\(AuditHTML.escape(request.note))</q></p>"
        return AuditHTML.document(
            title: "确认 · 反诈信息发布台帐",
            body: """
                <main class="confirm">
                <h1>\(AuditHTML.label("请确认", "Please confirm"))</h1>
                <p>信息 <small>Notice</small>：<strong id="confirm-notice">\(AuditHTML.escape(notice))</strong> \
                <small>\(AuditHTML.escape(request.noticeID))</small></p>
                <p id="confirm-question">\(AuditHTML.escape(question))<br><small>\(AuditHTML.escape(english))</small></p>
                \(table)
                \(note)
                <p>尚未做任何更改。记录的操作人为 \(AuditRole.admin.actor)。<small>Nothing has changed yet. The ledger records \
                \(AuditRole.admin.actor) as who did it, with the note and the time.</small></p>
                <form id="confirm" method="post" action="\(path)">
                \(fields)
                <button type="submit" class="primary">\(button)</button>
                <a id="cancel" href="\(backLink(request.date))">取消 <small>Cancel</small></a>
                </form>
                </main>
                """
        )
    }

    /// The page of a refused or impossible action, with a way back.
    static func problem(_ chinese: String, _ english: String, date: String? = nil) -> String {
        AuditHTML.document(
            title: "未执行 · 反诈信息发布台帐",
            body: """
                <main class="login"><p class="error" id="action-error" role="alert">\(AuditHTML.escape(chinese))\
                <small>\(AuditHTML.escape(english))</small></p>
                <p>未做任何更改。<small>Nothing was changed.</small></p>
                <p><a href="\(backLink(date))">返回台帐 <small>Back to the ledger</small></a></p></main>
                """
        )
    }

    /// The message of a refusal.
    static func refusal(_ refusal: AuditActionGuard.Refusal) -> (String, String) {
        switch refusal {
        case .noSession: ("请先以管理员身份登录。", "Log in as the admin first.")
        case .viewer: ("只读账号不能修改台帐。", "The viewer login can't change the ledger.")
        case .crossOrigin: ("拒绝来自其他网页的请求。", "Refused: the request came from another page.")
        case .wrongCSRFToken: ("表单已过期或无效，请刷新页面后重试。", "The form is stale or invalid: reload the page and try again.")
        }
    }

    /// The message of an unreadable form.
    static func problem(_ problem: AuditActionRequest.Problem) -> (String, String) {
        switch problem {
        case .missingNotice: ("缺少信息编号。", "The form names no notice.")
        case .noGroups: ("未选择任何群。", "No group was selected.")
        case .badResolution: ("请选择“已发送”或“重新发送”。", "Choose sent or resend.")
        case .noteTooLong:
            (
                "备注不能超过 \(AuditActionRequest.maxNoteLength) 个字。",
                "The note is longer than \(AuditActionRequest.maxNoteLength) characters."
            )
        }
    }

    /// The message of an action the ledger can't take.
    static func failure(_ failure: AuditActions.Failure, noticeID: String) -> (String, String) {
        switch failure {
        case .unknownNotice:
            return ("台帐中没有信息 \(noticeID)。", "The ledger has no notice \(noticeID).")
        case .notApplicable(let mismatches):
            let list = mismatches.map { "\($0.groupID)（\($0.state?.rawValue ?? "无投递")）" }.joined(separator: "、")
            let english = mismatches.map { "\($0.groupID) (\($0.state?.rawValue ?? "no delivery"))" }
                .joined(separator: ", ")
            return ("以下群的投递状态已不适用此操作：\(list)。", "These deliveries are not in the state this action takes: \(english).")
        }
    }

    /// `/?date=D` for a valid-looking date, else `/`.
    static func backLink(_ date: String?) -> String {
        guard let date, date.count == 10, date.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else {
            return "/"
        }
        return "/?date=\(date)"
    }
}
