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

/// A row of counts in the report's JSON: the same ten counts in every kind of row, and the row's own fields.
protocol CountedJSONRow: CustomerGroupCounted {
    var deliveries: Int { get }
    var sent: Int { get }
    var dead: Int { get }
    var inDoubt: Int { get }
    var queued: Int { get }
    var accepted: Int { get }
}

/// The keys of ``CountedJSONRow``'s counts, in sorted order.
private let countedJSONKeys = [
    "accepted", "awaiting_confirmation", "dead", "deliveries", "expired", "in_doubt", "not_delivered", "queued",
    "quota_refused", "sent",
]

/// A row's own field in the JSON.
enum JSONField {
    case int(Int)
    case string(String)
}

extension CountedJSONRow {
    private func count(at index: Int) -> Int {
        switch index {
        case 0: accepted
        case 1: awaitingConfirmation
        case 2: dead
        case 3: deliveries
        case 4: expired
        case 5: inDoubt
        case 6: notDelivered
        case 7: queued
        case 8: quotaRefused
        default: sent
        }
    }

    /// The row as one object: its counts and `own` fields (in key order), all keys in order.
    func write(to json: inout PrettyJSON, own: [(String, JSONField)]) {
        let keys = countedJSONKeys
        json.beginObject()
        var (count, field) = (0, 0)
        while count < keys.count || field < own.count {
            if field < own.count && (count == keys.count || own[field].0 < keys[count]) {
                switch own[field].1 {
                case .int(let value): json.field(own[field].0, value)
                case .string(let text): json.field(own[field].0, text)
                }
                field += 1
            } else {
                json.field(keys[count], self.count(at: count))
                count += 1
            }
        }
        json.endObject()
    }
}

extension PeriodReport.DayRow: CountedJSONRow {
    func write(to json: inout PrettyJSON) {
        write(to: &json, own: [("date", .string(date)), ("groups", .int(groups)), ("notices", .int(notices))])
    }
}

extension PeriodReport.GroupRow: CountedJSONRow {
    func write(to json: inout PrettyJSON) {
        write(
            to: &json,
            own: [("group_id", .string(groupID)), ("group_name", .string(groupName)), ("sink", .string(sink))])
    }
}

extension PeriodReport.NoticeRow: CountedJSONRow {
    func write(to json: inout PrettyJSON) {
        write(to: &json, own: [("groups", .int(groups)), ("notice_id", .string(noticeID)), ("title", .string(title))])
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
