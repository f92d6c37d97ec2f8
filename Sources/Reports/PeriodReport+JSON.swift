/// The report's JSON written field by field, keys in sorted order, as `JSONEncoder` would encode it with
/// `.prettyPrinted, .sortedKeys, .withoutEscapingSlashes` (the tests compare the two): `JSONEncoder` builds a tree
/// of the whole report first, which for 100,000 groups took a second and 250 MiB.
extension PeriodReport {
    func writeJSON(to out: inout ReportText) {
        var json = PrettyJSON()
        json.beginObject()
        json.field("accepted", accepted)
        json.field("awaiting_confirmation", awaitingConfirmation)
        json.key("by_day")
        json.beginArray()
        for day in byDay { day.write(to: &json) }
        json.endArray()
        json.key("by_group")
        json.beginArray()
        for row in byGroup {
            row.write(to: &json)
            if json.bytes.count >= 1 << 16 { out.append(json.take()) }
        }
        json.endArray()
        json.key("by_notice")
        json.beginArray()
        for row in byNotice { row.write(to: &json) }
        json.endArray()
        json.field("cancelled", cancelled)
        json.field("date", date)
        json.field("dead", dead)
        json.field("deliveries", deliveries)
        json.field("expired", expired)
        json.key("failures")
        json.beginArray()
        for failure in failures {
            failure.write(to: &json)
            if json.bytes.count >= 1 << 16 { out.append(json.take()) }
        }
        json.endArray()
        json.field("from", from)
        json.field("groups", groups)
        if let idleGroups {
            json.key("idle_groups")
            json.beginArray()
            for group in idleGroups {
                json.beginObject()
                json.field("group_id", group.groupID)
                json.field("group_name", group.groupName)
                json.endObject()
                if json.bytes.count >= 1 << 16 { out.append(json.take()) }
            }
            json.endArray()
        }
        json.field("in_doubt", inDoubt)
        json.field("not_delivered", notDelivered)
        json.field("notices", notices)
        json.field("pending", pending)
        json.field("period", period.rawValue)
        json.field("quota_refused", quotaRefused)
        json.field("retry", retry)
        if let selector { json.field("selector", selector) }
        json.field("sent", sent)
        json.field("tasks_created", tasksCreated)
        json.field("timezone", timezone)
        json.field("to", to)
        json.endObject()
        out.append(json.take())
        out += "\n"
    }
}

extension PeriodReport.DayRow {
    func write(to json: inout PrettyJSON) {
        json.beginObject()
        json.field("accepted", accepted)
        json.field("awaiting_confirmation", awaitingConfirmation)
        json.field("date", date)
        json.field("dead", dead)
        json.field("deliveries", deliveries)
        json.field("expired", expired)
        json.field("groups", groups)
        json.field("in_doubt", inDoubt)
        json.field("not_delivered", notDelivered)
        json.field("notices", notices)
        json.field("queued", queued)
        json.field("quota_refused", quotaRefused)
        json.field("sent", sent)
        json.endObject()
    }
}

extension PeriodReport.GroupRow {
    func write(to json: inout PrettyJSON) {
        json.beginObject()
        json.field("accepted", accepted)
        json.field("awaiting_confirmation", awaitingConfirmation)
        json.field("dead", dead)
        json.field("deliveries", deliveries)
        json.field("expired", expired)
        json.field("group_id", groupID)
        json.field("group_name", groupName)
        json.field("in_doubt", inDoubt)
        json.field("not_delivered", notDelivered)
        json.field("queued", queued)
        json.field("quota_refused", quotaRefused)
        json.field("sent", sent)
        json.field("sink", sink)
        json.endObject()
    }
}

extension PeriodReport.NoticeRow {
    func write(to json: inout PrettyJSON) {
        json.beginObject()
        json.field("accepted", accepted)
        json.field("awaiting_confirmation", awaitingConfirmation)
        json.field("dead", dead)
        json.field("deliveries", deliveries)
        json.field("expired", expired)
        json.field("groups", groups)
        json.field("in_doubt", inDoubt)
        json.field("not_delivered", notDelivered)
        json.field("notice_id", noticeID)
        json.field("queued", queued)
        json.field("quota_refused", quotaRefused)
        json.field("sent", sent)
        json.field("title", title)
        json.endObject()
    }
}

extension PeriodReport.Failure {
    func write(to json: inout PrettyJSON) {
        json.beginObject()
        json.field("attempts", attempts)
        json.field("group_id", groupID)
        json.field("group_name", groupName)
        json.field("notice_id", noticeID)
        json.field("notice_title", noticeTitle)
        json.field("reason", reason)
        json.field("reason_zh", reasonChinese)
        json.field("state", state)
        json.endObject()
    }
}
