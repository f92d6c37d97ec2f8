import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Logging
import Scheduling
import Sinks
import Testing

@Suite("Scheduler: firings once, catch-up, quiet hours, rotation")
struct SchedulerTests {
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    let at = LocalTime()

    static func entry(_ id: String, to: String? = nil, date: String? = nil, urgent: Bool = false) -> NoticeLibrary.Entry
    {
        NoticeLibrary.Entry(
            notice: Notice(id: id, title: "标题\(id)", text: "正文\(id)：不回拨、不轻信", urgent: urgent),
            file: "\(id).md", selector: try! to.map { try Selector(parsing: $0) }, date: date
        )
    }

    struct Rig {
        let store: SQLiteLedgerStore
        let config: GridcastConfig
        let directory: TemporaryDirectory

        func scheduler() -> Scheduler {
            Scheduler(config: config, sinks: .standard, store: store, logger: Logger(label: "test"))
        }

        /// Notice ids planned per group.
        func planned() async throws -> [String: [String]] {
            let rows = try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
            return Dictionary(grouping: rows, by: \.groupID).mapValues { $0.map(\.noticeID).sorted() }
        }
    }

    func rig(
        cron: String = "30 9 * * *",
        pick: ScheduleSpec.Pick = .nextUnsent,
        catchUp: Duration = .seconds(7200),
        library: [NoticeLibrary.Entry] = [entry("a1"), entry("a2"), entry("a3")],
        quiet: String? = nil,
        whenExhausted: ScheduleSpec.WhenExhausted = .restart
    ) throws -> Rig {
        let directory = try TemporaryDirectory("scheduler")
        var config = TestGroups.config(TestGroups.wecom(2, port: 1), ledger: directory.file("ledger.sqlite"))
        config.timeZone = shanghai
        config.library = NoticeLibrary(entries: library)
        config.schedules = [
            ScheduleSpec(
                id: "morning", cron: try CronSchedule(parsing: cron), selector: try Selector(parsing: "all"),
                pick: pick,
                catchUp: catchUp, whenExhausted: whenExhausted
            )
        ]
        config.quietHours = try quiet.map { try QuietHours(parsing: $0) }
        return Rig(store: try SQLiteLedgerStore(path: config.ledger.path), config: config, directory: directory)
    }

    @Test func aFiringHappensOnceAcrossARestart() async throws {
        let rig = try rig()
        let first = try await rig.scheduler().fireDue(now: at("2026-12-01 09:30:05"))
        #expect(first.map(\.outcome) == [.fired])
        #expect(first.first?.deliveries == 2)
        // A restart a minute later: a new scheduler on the same ledger fires nothing.
        let again = try await rig.scheduler().fireDue(now: at("2026-12-01 09:31:00"))
        #expect(again.isEmpty)
        #expect(try await rig.planned() == ["g0000": ["a1"], "g0001": ["a1"]])
        #expect(try await rig.store.firings(scheduleID: "morning").count == 1)
        rig.directory.remove()
    }

    @Test func twoSchedulersRacingOnOneLedgerFireOnce() async throws {
        let rig = try rig()
        async let one = rig.scheduler().fireDue(now: at("2026-12-01 09:30:05"))
        async let two = rig.scheduler().fireDue(now: at("2026-12-01 09:30:06"))
        let reports = try await one + two
        #expect(reports.filter { $0.deliveries > 0 }.count == 1)
        #expect(try await rig.planned() == ["g0000": ["a1"], "g0001": ["a1"]])
        rig.directory.remove()
    }

    @Test func aMissedFiringWithinCatchUpRunsAtStart() async throws {
        let rig = try rig()
        _ = try await rig.scheduler().fireDue(now: at("2026-11-30 09:30:01"))
        // Down from 09:31 yesterday until 11:00 today: today's 09:30 is 1.5 h old, within the 2 h catch-up.
        let reports = try await rig.scheduler().fireDue(now: at("2026-12-01 11:00:00"))
        #expect(reports.map(\.outcome) == [.fired])
        #expect(reports.first?.fireAt == at("2026-12-01 09:30:00"))
        #expect(try await rig.planned()["g0000"] == ["a1", "a2"])
        rig.directory.remove()
    }

    @Test func aFiringMissedBeyondCatchUpIsRecordedAsSkipped() async throws {
        let rig = try rig()
        _ = try await rig.scheduler().fireDue(now: at("2026-11-30 09:30:01"))
        let reports = try await rig.scheduler().fireDue(now: at("2026-12-01 12:00:00"))
        #expect(reports.map(\.outcome) == [.skipped])
        #expect(reports.first?.note == "missed by more than catch_up")
        let firings = try await rig.store.firings(scheduleID: "morning")
        #expect(firings.map(\.outcome) == [.fired, .skipped])
        #expect(try await rig.planned()["g0000"] == ["a1"])
        rig.directory.remove()
    }

    @Test func onlyTheLatestOfManyMissedFiringsRuns() async throws {
        let rig = try rig(cron: "*/10 * * * *", catchUp: .seconds(3600))
        _ = try await rig.scheduler().fireDue(now: at("2026-12-01 08:00:01"))
        let reports = try await rig.scheduler().fireDue(now: at("2026-12-01 08:45:00"))
        #expect(reports.map(\.outcome) == [.skipped, .skipped, .skipped, .fired])
        #expect(reports.last?.fireAt == at("2026-12-01 08:40:00"))
        #expect(try await rig.planned()["g0000"] == ["a1", "a2"], "one notice per firing that ran, not four")
        rig.directory.remove()
    }

    @Test func nonUrgentNoticesWaitForTheEndOfQuietHours() async throws {
        let rig = try rig(cron: "0 22 * * *", quiet: "21:30-07:30")
        _ = try await rig.scheduler().fireDue(now: at("2026-12-01 22:00:02"))
        let rows = try await rig.store.deliveries(changedFrom: .distantPast, to: .distantFuture)
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0.nextAt == at("2026-12-02 07:30:00") })
        rig.directory.remove()
    }

    @Test func urgentNoticesIgnoreQuietHours() async throws {
        let rig = try rig(
            cron: "0 22 * * *", pick: .notice("alert"), library: [Self.entry("alert", urgent: true)],
            quiet: "21:30-07:30")
        _ = try await rig.scheduler().fireDue(now: at("2026-12-01 22:00:02"))
        let rows = try await rig.store.deliveries(changedFrom: .distantPast, to: .distantFuture)
        #expect(rows.allSatisfy { $0.nextAt == at("2026-12-01 22:00:02") })
        rig.directory.remove()
    }

    @Test func nextUnsentRotatesPerGroupAndReportsAnExhaustedLibrary() async throws {
        // b2 is only for even groups: g0001 (odd) skips it.
        let rig = try rig(
            library: [Self.entry("b1"), Self.entry("b2", to: "tag:even"), Self.entry("b3")], whenExhausted: .stop)
        var exhausted: [[String]] = []
        for day in ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"] {
            let reports = try await rig.scheduler().fireDue(now: at("\(day) 09:30:01"))
            exhausted.append(reports.flatMap(\.exhausted))
        }
        #expect(try await rig.planned() == ["g0000": ["b1", "b2", "b3"], "g0001": ["b1", "b3"]])
        #expect(exhausted == [[], [], ["g0001"], ["g0000", "g0001"]])
        let last = try await rig.store.firings(scheduleID: "morning").last
        #expect(last?.outcome == .skipped)
        #expect(last?.note == "every selected group has had every library notice")
        rig.directory.remove()
    }

    @Test func datedPicksTheDaysNotice() async throws {
        let rig = try rig(
            pick: .dated, library: [Self.entry("d1", date: "2026-12-01"), Self.entry("d2", date: "2026-12-02")])
        _ = try await rig.scheduler().fireDue(now: at("2026-12-02 09:30:01"))
        #expect(try await rig.planned() == ["g0000": ["d2"], "g0001": ["d2"]])
        let none = try await rig.scheduler().fireDue(now: at("2026-12-03 09:30:01"))
        #expect(none.first?.note == "no library notice is dated 2026-12-03")
        rig.directory.remove()
    }
    /// Ends every claimable delivery: `dead` for the groups in `dead`, `sent` for the others.
    func settle(_ rig: Rig, dead: Set<String>, at now: Date) async throws {
        let claims = try await rig.store.claim(
            ClaimRequest(owner: "w/1/1/1", limit: 100, noticeID: nil, now: now, timeout: .seconds(15)))
        _ = try await rig.store.record(
            claims.map {
                let isDead = dead.contains($0.groupID)
                return DeliveryOutcome(
                    claim: $0, result: isDead ? .dead : .sent, partsSent: isDead ? 0 : 1,
                    error: isDead ? "errcode 93000: invalid webhook url" : nil, at: now)
            })
    }

    /// A group whose delivery ended dead gets the next notice at the next firing: the dead one is listed for the
    /// operator, and the rotation is not stuck on picking it again.
    @Test func aDeadDeliveryMovesTheRotationOnInsteadOfStallingIt() async throws {
        let rig = try rig()
        _ = try await rig.scheduler().fireDue(now: at("2026-12-01 09:30:05"))
        try await settle(rig, dead: ["g0000"], at: at("2026-12-01 09:30:06"))
        let second = try await rig.scheduler().fireDue(now: at("2026-12-02 09:30:05"))
        #expect(second.first?.deliveries == 2, "both groups get a notice, the one with a dead delivery too")
        try await settle(rig, dead: [], at: at("2026-12-02 09:30:06"))
        _ = try await rig.scheduler().fireDue(now: at("2026-12-03 09:30:05"))
        #expect(try await rig.planned() == ["g0000": ["a1", "a2", "a3"], "g0001": ["a1", "a2", "a3"]])
    }

    /// A library notice edited (same id, new text) after it went out: the schedule goes on, groups that had the old
    /// text don't get it again, and a group that hadn't gets the corrected text under a revision id.
    @Test func anEditedLibraryNoticeGoesOutAsARevisionAndTheScheduleGoesOn() async throws {
        let rig = try rig(library: [Self.entry("a1"), Self.entry("a2")], whenExhausted: .stop)
        _ = try await rig.scheduler().fireDue(now: at("2026-12-01 09:30:05"))
        try await settle(rig, dead: [], at: at("2026-12-01 09:30:06"))
        var fixed = Self.entry("a1")
        fixed.notice.text += "（已更正）"
        var config = rig.config
        config.library = NoticeLibrary(entries: [fixed, Self.entry("a2")])
        config.groups = TestGroups.wecom(3, port: 1)
        let scheduler = Scheduler(config: config, sinks: .standard, store: rig.store, logger: Logger(label: "test"))
        let second = try await scheduler.fireDue(now: at("2026-12-02 09:30:05"))
        #expect(second.map(\.outcome) == [.fired])
        let revision = Notice.revisionID(of: "a1", contentHash: fixed.notice.contentHash)
        #expect(try await rig.planned() == ["g0000": ["a1", "a2"], "g0001": ["a1", "a2"], "g0002": [revision]])
        #expect(try await rig.store.notice(id: revision)?.notice.text == fixed.notice.text)
        #expect(Notice.libraryID(of: revision) == "a1")
        try await settle(rig, dead: [], at: at("2026-12-02 09:30:06"))
        // The next day only the newcomer has something left: the revision counts as having had a1.
        _ = try await scheduler.fireDue(now: at("2026-12-03 09:30:05"))
        #expect(try await rig.planned()["g0002"] == ["a2", revision].sorted())
        #expect(try await rig.planned()["g0000"] == ["a1", "a2"])
    }
    /// A library notice that can't be planned (here: far too long for WeCom's five parts) is left out with a
    /// warning and the rotation gives the groups the next one: one bad file never stops the schedule.
    @Test func aLibraryNoticeThatCannotBePlannedIsLeftOutAndTheRestGoOut() async throws {
        var huge = Self.entry("a1")
        huge.notice.text = String(repeating: "冒充公检法的骗子会说你的账户涉嫌洗钱。\n", count: 1000)
        let rig = try rig(library: [huge, Self.entry("a2")], whenExhausted: .stop)
        let fired = try await rig.scheduler().fireDue(now: at("2026-12-01 09:30:05"))
        #expect(fired.map(\.outcome) == [.fired])
        #expect(try await rig.planned() == ["g0000": ["a2"], "g0001": ["a2"]])
        let outcome = try await FiringPlanner(config: rig.config, sinks: .standard, store: rig.store)
            .plans(for: rig.config.schedules[0], at: at("2026-12-02 09:30:00"), now: at("2026-12-02 09:30:00"))
        #expect(outcome.refused.map(\.notice) == ["a1"])
        #expect(outcome.refused.first?.why.contains("group g0000") == true)
        #expect(outcome.plans.isEmpty && outcome.note.contains("a1: notice 'a1' needs"), "\(outcome.note)")
    }
}
