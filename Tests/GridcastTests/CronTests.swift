import Foundation
import GridcastTesting
import Scheduling
import Testing

@Suite("Cron expressions and quiet hours")
struct CronTests {
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    let at = LocalTime()

    func next(_ expression: String, after text: String) throws -> Date? {
        try CronSchedule(parsing: expression).next(after: at(text), in: shanghai)
    }

    @Test func dailyMorningWarning() throws {
        #expect(try next("30 9 * * *", after: "2026-11-29 08:00") == at("2026-11-29 09:30"))
        #expect(try next("30 9 * * *", after: "2026-11-29 09:30") == at("2026-11-30 09:30"), "strictly after")
        #expect(try next("30 9 * * *", after: "2026-12-31 10:00") == at("2027-01-01 09:30"))
    }

    @Test func rangesListsAndSteps() throws {
        #expect(try next("*/15 * * * *", after: "2026-11-29 08:01") == at("2026-11-29 08:15"))
        #expect(try next("10-50/20 8 * * *", after: "2026-11-29 08:31") == at("2026-11-29 08:50"))
        #expect(try next("0 9,18 * * *", after: "2026-11-29 09:00") == at("2026-11-29 18:00"))
        #expect(try next("5 */6 * * *", after: "2026-11-29 06:06") == at("2026-11-29 12:05"))
    }

    @Test func namesForMonthsAndWeekdays() throws {
        // 2026-11-29 is a Sunday.
        #expect(try next("0 9 * * mon-fri", after: "2026-11-29 10:00") == at("2026-11-30 09:00"))
        #expect(try next("0 9 * * SAT", after: "2026-11-29 10:00") == at("2026-12-05 09:00"))
        #expect(try next("0 9 1 jan *", after: "2026-11-29 10:00") == at("2027-01-01 09:00"))
        #expect(try next("0 9 * * 7", after: "2026-11-28 10:00") == at("2026-11-29 09:00"), "7 is Sunday")
        #expect(try next("0 9 * * 0", after: "2026-11-28 10:00") == at("2026-11-29 09:00"))
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // "the 15th, and every Friday": Friday 2026-12-04 comes before the 15th.
        #expect(try next("0 9 15 * fri", after: "2026-12-01 00:00") == at("2026-12-04 09:00"))
        #expect(try next("0 9 15 * fri", after: "2026-12-12 00:00") == at("2026-12-15 09:00"))
        // With the weekday unrestricted only the day of month counts, and the other way round.
        #expect(try next("0 9 15 * *", after: "2026-12-01 00:00") == at("2026-12-15 09:00"))
        #expect(try next("0 9 * * fri", after: "2026-12-05 00:00") == at("2026-12-11 09:00"))
    }

    @Test func monthEndsAndLeapDays() throws {
        #expect(try next("0 0 31 * *", after: "2026-11-29 00:00") == at("2026-12-31 00:00"))
        #expect(try next("0 0 29 2 *", after: "2026-03-01 00:00") == at("2028-02-29 00:00"))
        #expect(try next("0 0 30 2 *", after: "2026-03-01 00:00") == nil, "February 30 never comes")
    }

    @Test func firingsInAWindow() throws {
        let schedule = try CronSchedule(parsing: "0 */8 * * *")
        let firings = schedule.firings(after: at("2026-11-29 00:00"), through: at("2026-11-30 00:00"), in: shanghai)
        #expect(firings == [at("2026-11-29 08:00"), at("2026-11-29 16:00"), at("2026-11-30 00:00")])
    }

    /// An instant written with its UTC offset, so a time on a daylight-saving day is never ambiguous.
    func instant(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    let newYork = TimeZone(identifier: "America/New_York")!

    /// 2026-11-01, New York: at 02:00 EDT clocks go back to 01:00 EST, so 01:00–01:59 happens twice. A wall-clock
    /// time in that hour fires once, at its first occurrence (docs/scheduling.md).
    @Test func aTimeTheFallBackRepeatsFiresOnceAtItsFirstOccurrence() throws {
        let daily = try CronSchedule(parsing: "30 1 * * *")
        #expect(
            daily.firings(
                after: instant("2026-10-31T12:00:00-04:00"), through: instant("2026-11-02T12:00:00-05:00"), in: newYork)
                == [instant("2026-11-01T01:30:00-04:00"), instant("2026-11-02T01:30:00-05:00")])
        let halfHourly = try CronSchedule(parsing: "*/30 1,2 * * *")
        #expect(
            halfHourly.firings(
                after: instant("2026-11-01T00:00:00-04:00"), through: instant("2026-11-01T04:00:00-05:00"), in: newYork)
                == [
                    instant("2026-11-01T01:00:00-04:00"), instant("2026-11-01T01:30:00-04:00"),
                    instant("2026-11-01T02:00:00-05:00"), instant("2026-11-01T02:30:00-05:00"),
                ])
        // Asked from inside the repeated hour, after the first 01:30: the second 01:30 is not another firing.
        #expect(
            daily.next(after: instant("2026-11-01T01:45:00-04:00"), in: newYork) == instant("2026-11-02T01:30:00-05:00")
        )
    }

    /// 2026-03-08, New York: at 02:00 EST clocks jump to 03:00 EDT, so 02:00–02:59 never happens. A firing in the
    /// gap fires at the first valid time after it, 03:00, once however many of its times fell in the gap.
    @Test func aTimeTheSpringForwardSkipsFiresAtTheNextValidTime() throws {
        let daily = try CronSchedule(parsing: "30 2 * * *")
        #expect(
            daily.firings(
                after: instant("2026-03-07T12:00:00-05:00"), through: instant("2026-03-09T12:00:00-04:00"), in: newYork)
                == [instant("2026-03-08T03:00:00-04:00"), instant("2026-03-09T02:30:00-04:00")])
        let around = try CronSchedule(parsing: "0,30 2,3 * * *")
        #expect(
            around.firings(
                after: instant("2026-03-08T00:00:00-05:00"), through: instant("2026-03-08T05:00:00-04:00"), in: newYork)
                == [instant("2026-03-08T03:00:00-04:00"), instant("2026-03-08T03:30:00-04:00")])
        #expect(
            daily.next(after: instant("2026-03-08T01:59:00-05:00"), in: newYork) == instant("2026-03-08T03:00:00-04:00")
        )
        // Another day's schedule is not moved by the gap.
        let otherDay = try CronSchedule(parsing: "30 2 9 3 *")
        #expect(
            otherDay.next(after: instant("2026-03-07T12:00:00-05:00"), in: newYork)
                == instant("2026-03-09T02:30:00-04:00"))
    }

    @Test(arguments: [
        ("30 9 * *", "cron needs 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("60 9 * * *", "cron minute: 60 is outside 0-59"),
        ("0 24 * * *", "cron hour: 24 is outside 0-23"),
        ("0 9 0 * *", "cron day of month: 0 is outside 1-31"),
        ("0 9 * 13 *", "cron month: 13 is outside 1-12"),
        ("0 9 * * 8", "cron day of week: 8 is outside 0-7"),
        ("0 9 * * funday", "cron day of week: 'funday' is not a number (or a name such as sun)"),
        ("*/0 9 * * *", "cron minute: step in '*/0' must be a positive number"),
        ("0 17-9 * * *", "cron hour: range '17-9' runs backwards"),
        ("0 9 ,5 * *", "cron day of month: cannot read ''"),
    ])
    func invalidExpressionsSayWhichField(expression: String, message: String) {
        #expect(throws: CronSchedule.Failure(message: message)) { try CronSchedule(parsing: expression) }
    }

    @Test func quietHoursAcrossMidnight() throws {
        let quiet = try QuietHours(parsing: "21:30-07:30")
        #expect(quiet.release(at("2026-11-29 12:00"), in: shanghai) == at("2026-11-29 12:00"))
        #expect(quiet.release(at("2026-11-29 22:00"), in: shanghai) == at("2026-11-30 07:30"))
        #expect(quiet.release(at("2026-11-29 06:00"), in: shanghai) == at("2026-11-29 07:30"))
        #expect(quiet.release(at("2026-11-29 07:30"), in: shanghai) == at("2026-11-29 07:30"))
        let lunch = try QuietHours(parsing: "12:00-13:30")
        #expect(lunch.release(at("2026-11-29 12:15"), in: shanghai) == at("2026-11-29 13:30"))
        #expect(throws: QuietHours.Failure.self) { try QuietHours(parsing: "25:00-07:00") }
        #expect(throws: QuietHours.Failure.self) { try QuietHours(parsing: "night") }
    }
}
