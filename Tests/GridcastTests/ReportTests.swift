import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Reports
import Testing

@Suite("Reports by day, week and month, counted in the config's time zone")
struct ReportTests {
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    let at = LocalTime()

    func row(_ notice: String, _ group: String, _ state: DeliveryState, at time: String) -> DeliveryRecord {
        let date = at(time)
        return DeliveryRecord(
            id: "\(notice)-\(group)", noticeID: notice, noticeTitle: "标题", groupID: group, groupName: "群\(group)",
            sink: "wecom", state: state, attempts: 1, partsTotal: 1, partsSent: state == .sent ? 1 : 0, plannedAt: date,
            firstAttemptAt: date, lastAttemptAt: date, sentAt: state == .sent ? date : nil, updatedAt: date,
            nextAt: nil,
            leaseOwner: nil, leaseUntil: nil, lastError: state == .dead ? "errcode 93000: invalid webhook url" : nil
        )
    }

    @Test func csvCellsNeverRunAsSpreadsheetFormulas() {
        var formula = row("n1", "a", .dead, at: "2026-11-29 09:00")
        formula.noticeTitle = "=HYPERLINK(\"http://x\",\"点我\")"
        formula.groupName = "@SUM(1)"
        formula.lastError = "-1+2"
        let csv = LedgerListing(rows: [formula], timeZone: shanghai).rendered(as: .csv)
        let line = csv.split(separator: "\n")[1]
        #expect(line.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\""))
        #expect(line.contains(",'@SUM(1),"))
        #expect(line.contains(",0/1,'-1+2,"))
    }

    @Test func aCSVCellWithALineBreakOfEitherKindIsQuoted() {
        var broken = row("n1", "a", .dead, at: "2026-11-29 09:00")
        broken.lastError = "第一行\r\n第二行"
        broken.groupName = "群\na"
        let csv = LedgerListing(rows: [broken], timeZone: shanghai).rendered(as: .csv)
        #expect(csv.contains(",\"第一行\r\n第二行\","))
        #expect(csv.contains(",\"群\na\","))
    }

    @Test func periodsAreMondayToSundayWeeksAndCalendarMonths() {
        let sunday = LocalDay(parsing: "2026-11-29", timeZone: shanghai)!
        let week = PeriodReport.days(of: .week, containing: sunday).map(\.description)
        #expect(week.first == "2026-11-23")
        #expect(week.last == "2026-11-29")
        let monday = LocalDay(parsing: "2026-11-30", timeZone: shanghai)!
        #expect(PeriodReport.days(of: .week, containing: monday).first?.description == "2026-11-30")
        let month = PeriodReport.days(of: .month, containing: sunday)
        #expect(month.count == 30)
        #expect(month.last?.description == "2026-11-30")
        let february = PeriodReport.days(of: .month, containing: LocalDay(parsing: "2028-02-10", timeZone: shanghai)!)
        #expect(february.count == 29)
    }

    @Test func aDeliveryCountsOnTheLocalDayOfItsLatestChange() {
        let day = LocalDay(parsing: "2026-11-29", timeZone: shanghai)!
        // 23:59:59 the day before and 00:00:00 the day after are outside; local midnight is inside.
        #expect(day.start == at("2026-11-29 00:00:00"))
        #expect(day.end == at("2026-11-30 00:00:00"))
        let rows = [
            row("n1", "a", .sent, at: "2026-11-29 00:00:00"), row("n1", "b", .sent, at: "2026-11-29 23:59:59"),
        ]
        let report = PeriodReport.make(day: day, records: rows)
        #expect(report.sent == 2)
        #expect(report.summary == "2026-11-29：共发布反诈信息 1 条，转发 2 个群，累计投递 2 次（成功 2 次，失败 0 次，待核实 0 次）")
    }

    @Test func weeklyAndMonthlyShareFieldsAndSumTheirDays() {
        let rows = [
            row("n1", "a", .sent, at: "2026-11-24 09:30:00"), row("n1", "b", .sent, at: "2026-11-24 09:30:01"),
            row("n2", "a", .sent, at: "2026-11-29 09:30:00"), row("n2", "b", .dead, at: "2026-11-29 09:30:00"),
        ]
        let day = LocalDay(parsing: "2026-11-26", timeZone: shanghai)!
        let week = PeriodReport.make(
            .week, asked: day, days: PeriodReport.days(of: .week, containing: day), records: rows)
        #expect(week.from == "2026-11-23")
        #expect(week.to == "2026-11-29")
        #expect(week.notices == 2)
        #expect(week.groups == 2)
        #expect(week.deliveries == 4)
        #expect(week.byDay.count == 7)
        #expect(week.byDay.map(\.deliveries).reduce(0, +) == week.deliveries)
        #expect(week.summary == "2026-11-23 至 2026-11-29：共发布反诈信息 2 条，转发 2 个群，累计投递 4 次（成功 3 次，失败 1 次，待核实 0 次）")
        let month = PeriodReport.make(
            .month, asked: day, days: PeriodReport.days(of: .month, containing: day), records: rows)
        #expect(month.summary.hasPrefix("2026年11月：共发布反诈信息 2 条，转发 2 个群，累计投递 4 次"))
        // Same JSON field names for every period.
        let keys = { (report: PeriodReport) in
            Set(
                (try? JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])?.keys.map { $0 }
                    ?? [])
        }
        #expect(keys(week) == keys(month))
        #expect(keys(week) == keys(PeriodReport.make(day: day, records: rows)))
        let markdown = month.rendered(as: .markdown)
        #expect(markdown.contains(month.summary))
        #expect(markdown.contains("| 2026-11-24 | 1 | 2 | 2 | 2 | 0 | 0 |"))
        #expect(markdown.contains("- 群b（b） ·《标题》：失败，机器人地址无效"), "\(markdown)")
        // Only the two days with deliveries, not 30 rows of zeros, unless every day is asked for.
        #expect(markdown.components(separatedBy: "| 2026-11-").count - 1 == 2)
        let everyDay = month.rendered(as: .markdown, allDays: true)
        #expect(everyDay.components(separatedBy: "| 2026-11-").count - 1 == 30)
        #expect(markdown.contains("| n1 | 标题 | 2 | 2 | 2 | 0 | 0 |"), "each notice with its title and group count")
        let table = month.rendered(as: .table)
        #expect(table.contains("  群b（b）  《标题》  dead after 1 attempt: 机器人地址无效 (errcode 93000: invalid webhook url)"))
        #expect(!table.contains("2026-11-01"))
        #expect(month.rendered(as: .table, allDays: true).contains("2026-11-01"))
    }

    @Test(
        "stored failures read in Chinese; an unknown one stays as stored",
        arguments: [
            ("permanent: errcode 93000: invalid webhook url, hint: [..]", "wecom", "机器人地址无效"),
            ("outcome unknown (curl 28: Timeout was reached)", "wecom", "结果未知（超时）"),
            ("outcome unknown (curl 56: Failure when receiving data from the peer)", "feishu", "结果未知（连接中断）"),
            ("claim expired: outcome unknown", "slack", "结果未知（发送进程中断）"),
            (
                "errcode 310000: keywords not in content (the text lacks the robot's custom keyword)", "dingtalk",
                "关键词不匹配"
            ),
            ("errcode 310000: sign not match (check the group's secret)", "dingtalk", "加签校验失败（检查 secret）"),
            ("code 19024: Key Words Not Found", "feishu", "关键词不匹配"),
            ("not sent (curl 6: Couldn't resolve host name)", "wecom", "无法解析平台域名"),
            ("HTTP 404", "slack", "机器人地址无效"),
            ("errcode 40058: content exceed max length", "wecom", "内容过长"),
            ("something new from the platform", "wecom", "something new from the platform"),
        ])
    func failureReasonsInChinese(stored: String, sink: String, expected: String) {
        #expect(FailureReason.chinese(stored, sink: sink) == expected)
    }

    /// An in_doubt delivery never reads as a plain failure: a 502 or an errcode answer it ended on may have been
    /// posted all the same.
    @Test(
        arguments: [
            ("HTTP 502: Bad Gateway", "wecom", "结果未知（平台返回 HTTP 502）"),
            ("errcode -1: system busy", "wecom", "结果未知"),
            ("outcome unknown (curl 28: Timeout was reached)", "wecom", "结果未知（超时）"),
        ])
    func anInDoubtReasonSaysTheOutcomeIsUnknown(stored: String, sink: String, expected: String) {
        #expect(FailureReason.chinese(stored, sink: sink, inDoubt: true) == expected)
        #expect(FailureReason.chinese("HTTP 502: Bad Gateway", sink: sink) == "平台服务器错误（HTTP 502）")
    }

    @Test func queuedDeliveriesHaveTheirOwnColumnInEveryFormat() throws {
        let day = LocalDay(parsing: "2026-11-29", timeZone: shanghai)!
        let rows = [
            row("n1", "a", .sent, at: "2026-11-29 09:30"), row("n1", "b", .planned, at: "2026-11-29 09:30"),
            row("n1", "c", .retry, at: "2026-11-29 09:31"), row("n1", "d", .cancelled, at: "2026-11-29 09:32"),
            row("n1", "e", .dead, at: "2026-11-29 09:33"),
        ]
        let report = PeriodReport.make(
            .week, asked: day, days: PeriodReport.days(of: .week, containing: day), records: rows)
        #expect(report.queued == 2)
        #expect(report.summary.hasSuffix("（成功 1 次，失败 1 次，待核实 0 次，待发送 2 次，已取消 1 次）"))
        // Counted apart from sent, failed and cancelled, in the day, notice and group rows alike.
        #expect(report.byDay.last?.queued == 2)
        #expect(report.byNotice.first?.queued == 2)
        #expect(report.byGroup.map(\.queued) == [0, 1, 1, 0, 0])

        let table = report.table()
        let tableLines = table.split(separator: "\n").map(String.init)
        #expect(tableLines.contains { $0.hasPrefix("DAY") && $0.hasSuffix("IN_DOUBT  QUEUED") })
        #expect(tableLines.contains { $0.hasPrefix("NOTICE") && $0.hasSuffix("QUEUED") })
        #expect(tableLines.contains { $0.hasPrefix("n1") && $0.hasSuffix("  2") })
        #expect(tableLines.contains { $0.hasPrefix("c ") && $0.hasSuffix("  1") })

        let markdown = report.markdown()
        #expect(markdown.contains("| 日期 | 发布条数 | 转发群数 | 投递 | 成功 | 失败 | 待核实 | 待发送 |"))
        #expect(markdown.contains("| 2026-11-29 | 1 | 1 | 5 | 1 | 1 | 0 | 2 |"))
        #expect(markdown.contains("| n1 | 标题 | 1 | 5 | 1 | 1 | 0 | 2 |"))
        #expect(markdown.contains("| b | 群b | wecom | 1 | 0 | 0 | 0 | 1 |"))

        let csv = report.csv.split(separator: "\n").map(String.init)
        #expect(
            csv.first
                == "date,group_id,group_name,sink,deliveries,sent,dead,in_doubt,queued,accepted,awaiting_confirmation,"
                + "quota_refused,not_delivered,expired,tasks_created")
        #expect(csv.contains("2026-11-29,c,群c,wecom,1,0,0,0,1,0,0,0,0,0,"))
        #expect(csv.last == "2026-11-29,TOTAL,,,5,1,1,0,2,0,0,0,0,0,0")
        #expect(!markdown.contains("已受理未确认"), "no accepted column where no platform answered so")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        let byGroup = try #require(json["by_group"] as? [[String: Any]])
        #expect(byGroup.map { $0["queued"] as? Int } == [0, 1, 1, 0, 0])
        #expect((json["by_notice"] as? [[String: Any]])?.first?["queued"] as? Int == 2)
        #expect((json["by_day"] as? [[String: Any]])?.last?["queued"] as? Int == 2)
    }

    /// The report's JSON is written field by field as it is made; it must be what `JSONEncoder` makes of the same
    /// report, byte for byte, whatever the text holds and whichever optional parts are there.
    @Test func theStreamedJSONIsWhatJSONEncoderWrites() throws {
        let day = LocalDay(parsing: "2026-11-29", timeZone: shanghai)!
        var awkward = row("n\"1", "a/b", .dead, at: "2026-11-29 09:30")
        awkward.noticeTitle = "引号\"反斜杠\\斜杠/换行\n回车\r制表\t\u{08}\u{0C}\u{01}\u{1F}\u{7F}😀"
        awkward.groupName = "群\u{0}名"
        awkward.lastError = "errcode 93000: \"bad\"\n"
        let rows = [
            awkward, row("n2", "c", .sent, at: "2026-11-28 23:59"), row("n2", "d", .inDoubt, at: "2026-11-27 09:00"),
            row("n2", "e", .planned, at: "2026-11-29 10:00"),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for period in [PeriodReport.Period.day, .week, .range] {
            var report = PeriodReport.make(
                period, asked: day, days: PeriodReport.days(of: period, containing: day), records: rows)
            for (selector, idle) in [(nil, false), ("tag:x", true)] as [(String?, Bool)] {
                report.scope(selector: selector, groups: [("a/b", "甲"), ("z", "\"乙\"")], listingIdle: idle)
                let expected = String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
                #expect(report.json == expected, "\(period) \(selector ?? "all")")
            }
        }
        let empty = PeriodReport.make(day: day, records: [])
        #expect(empty.json == String(decoding: try encoder.encode(empty), as: UTF8.self) + "\n")
        // A report written in pieces is the same text.
        var pieces: [[UInt8]] = []
        let big = PeriodReport.make(
            day: day,
            records: (0..<3000).map { row("n1", String(format: "g%05d", $0), .sent, at: "2026-11-29 09:00") })
        big.write(as: .json) { pieces.append($0) }
        #expect(pieces.count > 1)
        #expect(String(decoding: pieces.joined(), as: UTF8.self) == big.json)
        #expect(big.json == String(decoding: try encoder.encode(big), as: UTF8.self) + "\n")
    }
}
