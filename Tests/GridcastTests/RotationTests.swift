import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Logging
import Scheduling
import Sinks
import Testing

/// The rotation through the notice library on real SQLite ledgers: rounds after the library is exhausted, dated
/// notices, audiences this config lacks, and the preview planning exactly what the firings plan.
@Suite("Rotation: rounds, dated notices, audiences, preview")
struct RotationTests {
    let at = LocalTime()

    /// Groups g0000 (tag even) and g0001 (tag odd), a library, the given schedules, a fresh ledger.
    func rig(
        library: [NoticeLibrary.Entry], schedules: [(String, String, ScheduleSpec.Pick)] = [],
        whenExhausted: ScheduleSpec.WhenExhausted = .restart
    ) throws -> SchedulerTests.Rig {
        let directory = try TemporaryDirectory("rotation")
        var config = TestGroups.config(TestGroups.wecom(2, port: 1), ledger: directory.file("ledger.sqlite"))
        config.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        config.library = NoticeLibrary(entries: library)
        let specs = schedules.isEmpty ? [("morning", "30 9 * * *", ScheduleSpec.Pick.nextUnsent)] : schedules
        config.schedules = try specs.map { id, cron, pick in
            ScheduleSpec(
                id: id, cron: try CronSchedule(parsing: cron), selector: try Selector(parsing: "all"), pick: pick,
                catchUp: .seconds(7200), whenExhausted: whenExhausted)
        }
        return SchedulerTests.Rig(
            store: try SQLiteLedgerStore(path: config.ledger.path), config: config, directory: directory)
    }

    func days(_ count: Int, from first: Int = 1) -> [String] {
        (first..<(first + count)).map { String(format: "2026-12-%02d", $0) }
    }

    /// Fires the schedules each day at `time` and settles every delivery as sent.
    func fire(_ rig: SchedulerTests.Rig, on days: [String], time: String = "09:30:05") async throws {
        for day in days {
            _ = try await rig.scheduler().fireDue(now: at("\(day) \(time)"))
            try await SchedulerTests().settle(rig, dead: [], at: at("\(day) \(time)").addingTimeInterval(1))
        }
    }

    @Test func anExhaustedLibraryStartsOverAndEachRoundIsADeliveryOfItsOwn() async throws {
        let rig = try rig(library: [SchedulerTests.entry("a1"), SchedulerTests.entry("a2")])
        defer { rig.directory.remove() }
        try await fire(rig, on: days(5))
        let expected = ["a1", "a1.round-2", "a1.round-3", "a2", "a2.round-2"]
        #expect(try await rig.planned() == ["g0000": expected, "g0001": expected])
        // Each round is its own notice, recorded with the library notice's content.
        let round2 = try #require(try await rig.store.notice(id: "a1.round-2"))
        #expect(round2.notice.contentHash == SchedulerTests.entry("a1").notice.contentHash)
        #expect(Notice.rotationKey(of: "a1.round-3") == ("a1", 3))
        #expect(Notice.rotationKey(of: "a1.round-2.rev-0123abcd") == ("a1", 2))
        #expect(Notice.libraryID(of: "a1.round-2.rev-0123abcd") == "a1")
        // The same firing again (a restart, a second daemon) adds nothing: a round's id is as unique as the first.
        let again = try await rig.scheduler().fireDue(now: at("2026-12-05 09:31:00"))
        #expect(again.isEmpty)
        #expect(try await rig.store.deliveries(changedFrom: .distantPast, to: .distantFuture).count == 10)
    }

    @Test func whenExhaustedStopSendsNothingMore() async throws {
        let rig = try rig(library: [SchedulerTests.entry("a1")], whenExhausted: .stop)
        defer { rig.directory.remove() }
        try await fire(rig, on: days(3))
        #expect(try await rig.planned() == ["g0000": ["a1"], "g0001": ["a1"]])
        let last = try await rig.store.firings(scheduleID: "morning").last
        #expect(last?.note == "every selected group has had every library notice")
    }

    /// A notice added to the library while the groups are in round 2 reaches them before round 2 goes on.
    @Test func aNoticeAddedLaterComesBeforeTheNextRoundGoesOn() async throws {
        let rig = try rig(library: [SchedulerTests.entry("a1"), SchedulerTests.entry("a2")])
        defer { rig.directory.remove() }
        try await fire(rig, on: days(3))  // a1, a2, a1.round-2
        var config = rig.config
        config.library.entries.append(SchedulerTests.entry("a3"))
        let scheduler = Scheduler(config: config, sinks: .standard, store: rig.store, logger: Logger(label: "test"))
        for day in days(3, from: 4) {
            _ = try await scheduler.fireDue(now: at("\(day) 09:30:05"))
            try await SchedulerTests().settle(rig, dead: [], at: at("\(day) 09:30:06"))
        }
        #expect(
            try await rig.planned()["g0000"] == ["a1", "a1.round-2", "a2", "a2.round-2", "a3", "a3.round-2"],
            "a3 first (round 1), then a2.round-2, then a3.round-2: every notice twice before any a third time")
    }

    /// A dated notice goes out on its day to its own audience and never through `next-unsent`.
    @Test func aDatedNoticeGoesToItsAudienceOnItsDayOnly() async throws {
        let rig = try rig(
            library: [
                SchedulerTests.entry("a1"), SchedulerTests.entry("d1", to: "tag:even", date: "2026-12-02"),
                SchedulerTests.entry("a2"),
            ],
            schedules: [("morning", "30 9 * * *", .nextUnsent), ("dated", "0 10 * * *", .dated)])
        defer { rig.directory.remove() }
        try await fire(rig, on: days(4), time: "10:00:05")
        let planned = try await rig.planned()
        #expect(planned["g0000"] == ["a1", "a1.round-2", "a2", "a2.round-2", "d1"])
        #expect(planned["g0001"] == ["a1", "a1.round-2", "a2", "a2.round-2"], "d1 is for tag:even only")
    }

    /// A notice whose `to:` names a tag no group has is sent to nobody and leaves the rotation; the others go on.
    @Test func aNoticeForATagThisConfigLacksLeavesTheRotation() async throws {
        let rig = try rig(library: [SchedulerTests.entry("m1", to: "tag:migrant"), SchedulerTests.entry("a1")])
        defer { rig.directory.remove() }
        try await fire(rig, on: days(2))
        #expect(try await rig.planned() == ["g0000": ["a1", "a1.round-2"], "g0001": ["a1", "a1.round-2"]])
        let planner = FiringPlanner(config: rig.config, sinks: .standard, store: rig.store)
        let spec = ScheduleSpec(
            id: "m", cron: try CronSchedule(parsing: "0 8 * * *"), selector: try Selector(parsing: "all"),
            pick: .notice("m1"))
        let outcome = try await planner.plans(for: spec, at: at("2026-12-03 08:00:00"), now: at("2026-12-03 08:00:00"))
        #expect(outcome.plans.isEmpty)
        #expect(outcome.note == "notice m1 is for tag:migrant, which this config lacks")
    }

    /// `schedule preview`'s path: planning each firing on a simulated rotation gives exactly the notices, groups and
    /// due times the real firings then record.
    @Test func thePreviewPlansWhatTheFiringsRecord() async throws {
        let library = [
            SchedulerTests.entry("a1"), SchedulerTests.entry("e1", to: "tag:even"),
            SchedulerTests.entry("d1", date: "2026-12-03"), SchedulerTests.entry("a2"),
        ]
        let rig = try rig(
            library: library, schedules: [("morning", "30 9 * * *", .nextUnsent), ("dated", "30 9 * * *", .dated)])
        defer { rig.directory.remove() }
        try await fire(rig, on: ["2026-12-01"])
        let planner = FiringPlanner(config: rig.config, sinks: .standard, store: rig.store)
        var rotation = try await planner.rotation(groupIDs: ["g0000", "g0001"])
        var previewed: [String] = []
        for day in days(5, from: 2) {
            for schedule in rig.config.schedules {
                let fireAt = at("\(day) 09:30:00")
                let outcome = try await planner.outcome(for: schedule, at: fireAt, now: fireAt, rotation: rotation)
                for plan in outcome.plans {
                    rotation.record(plan)
                    previewed += plan.targets.map { "\(day) \(plan.notice.id) \($0.groupID)" }
                }
            }
        }
        try await fire(rig, on: days(5, from: 2), time: "09:30:00")
        let recorded = try await rig.store.deliveries(changedFrom: .distantPast, to: .distantFuture)
            .filter { $0.plannedAt > at("2026-12-01 23:00:00") }
            .map { "\(LocalDay(date: $0.plannedAt, timeZone: rig.config.timeZone)) \($0.noticeID) \($0.groupID)" }
        #expect(previewed.sorted() == recorded.sorted())
        #expect(previewed.contains("2026-12-03 d1 g0001"))
        #expect(previewed.contains { $0.contains(".round-2") })
    }
}
