import Foundation
import GridcastCore
import Ledger
import Scheduling
import Sinks

/// Writes the summary notice of a period (the admin group's daily or weekly report) as the ledger reads now: handed
/// in by the daemon, which knows the reports, so planning does not depend on them.
public typealias SummaryWriter = @Sendable (SummaryPeriod, LocalDay) async throws -> Notice

/// Decides what one firing of a schedule sends: which library notice each selected group gets, in which round, when
/// (quiet hours), and which groups have had the whole library. `gridcast serve` and `gridcast schedule preview` both
/// go through ``outcome(for:at:now:rotation:)``, so the preview shows what the firing will do
/// (`docs/scheduling.md`).
public struct FiringPlanner: Sendable {
    let config: GridcastConfig
    let sinks: SinkRegistry
    let store: any LedgerStore
    let summaries: SummaryWriter?

    /// Creates a planner; `summaries` writes the notices of `report_to` schedules.
    public init(config: GridcastConfig, sinks: SinkRegistry, store: any LedgerStore, summaries: SummaryWriter? = nil) {
        self.config = config
        self.sinks = sinks
        self.store = store
        self.summaries = summaries
    }

    /// What a firing would plan.
    public struct Outcome: Sendable {
        /// One plan per notice chosen.
        public var plans: [Plan]
        /// Groups that got nothing because they have had every notice they may receive.
        public var exhausted: [String]
        /// Why nothing was planned, when nothing was (no dated notice for the day…).
        public var note: String
        /// Library notices edited since their id was recorded, planned under their revision id: (library id,
        /// recorded id).
        public var revised: [(library: String, recorded: String)] = []
        /// Library notices left out because they can't be planned, with the reason (naming the group).
        public var refused: [(notice: String, why: String)] = []
    }

    /// A library notice chosen for some groups, in a round of the rotation (1 for the first time).
    public struct Choice: Sendable {
        public var entry: NoticeLibrary.Entry
        public var round: Int
        public var groups: [Group]
    }

    /// Who may receive each library notice in this config: nil for a notice whose `to:` names a group or tag the
    /// config lacks (it leaves the rotation: `gridcast check` warns about it).
    func audiences() -> [String: Set<String>?] {
        var audiences: [String: Set<String>?] = [:]
        for entry in config.library.entries { audiences[entry.notice.id] = .some(entry.audience(in: config.groups)) }
        return audiences
    }

    /// The notices `next-unsent` may give `groupID`, in file order: not dated, and for an audience that includes it.
    func rotating(
        for groupID: String, audiences: [String: Set<String>?], leaving: Set<String> = []
    ) -> [NoticeLibrary
        .Entry]
    {
        config.library.entries.filter { entry in
            entry.date == nil && !leaving.contains(entry.notice.id)
                && (audiences[entry.notice.id] ?? nil)?.contains(groupID) == true
        }
    }

    /// What each group has had, per round, read from the ledger: any version (revision) and any state, so a delivery
    /// that ended dead moves the rotation on instead of being picked again. Round `r + 1` is looked up only for the
    /// groups that have had round `r` of every notice they may receive.
    public func rotation(groupIDs: [String]) async throws -> Rotation {
        var rotation = Rotation()
        let audiences = audiences()
        var pending = groupIDs
        var round = 1
        while !pending.isEmpty {
            let ids = config.library.entries.filter { round == 1 || $0.date == nil }
                .map { Notice.roundID(of: $0.notice.id, round: round) }
            for (group, recorded) in try await store.noticesHad(groupIDs: pending, among: ids) {
                for id in recorded { rotation.add(recordedID: id, for: group) }
            }
            pending = pending.filter { group in
                let eligible = rotating(for: group, audiences: audiences)
                return !eligible.isEmpty
                    && eligible.allSatisfy { rotation.round(of: $0.notice.id, for: group) >= round }
            }
            round += 1
        }
        return rotation
    }

    /// Which library notice goes to which of the selected groups, in which round, given the `rotation`; notices in
    /// `leaving` are left out (they could not be planned).
    public func choose(
        _ schedule: ScheduleSpec, at fireAt: Date, rotation: Rotation, leaving: Set<String> = []
    ) throws -> (choices: [Choice], exhausted: [String], note: String) {
        let groups = try schedule.selector.resolve(in: config.groups)
        let audiences = audiences()
        /// The selected groups a notice may go to the first time: its audience, and not had yet.
        func firstTime(_ entry: NoticeLibrary.Entry) -> [Group] {
            guard let audience = audiences[entry.notice.id] ?? nil else { return [] }
            return groups.filter { audience.contains($0.id) && rotation.round(of: entry.notice.id, for: $0.id) == 0 }
        }
        func outside(_ entry: NoticeLibrary.Entry) -> String {
            "notice \(entry.notice.id) is for \(entry.selector?.description ?? "all"), which this config lacks"
        }
        switch schedule.pick {
        case .summary:
            return ([], [], "")  // not a library notice: see outcome(for:at:now:rotation:)
        case .notice(let id):
            guard let entry = config.library.entry(id), !leaving.contains(id) else {
                return ([], [], "notice \(id) is not in the library")
            }
            guard (audiences[id] ?? nil) != nil else { return ([], [], outside(entry)) }
            return ([Choice(entry: entry, round: 1, groups: firstTime(entry))], [], "")
        case .dated:
            // Each notice of the day goes to its own audience among the selected groups, once.
            let day = LocalDay(date: fireAt, timeZone: config.timeZone).description
            let dated = config.library.entries.filter { $0.date == day && !leaving.contains($0.notice.id) }
            guard !dated.isEmpty else { return ([], [], "no library notice is dated \(day)") }
            let choices = dated.map { Choice(entry: $0, round: 1, groups: firstTime($0)) }
            let notes = dated.filter { (audiences[$0.notice.id] ?? nil) == nil }.map(outside)
            return (choices, [], notes.joined(separator: "; "))
        case .nextUnsent:
            var order: [String] = []
            var chosen: [String: Choice] = [:]
            var exhausted: [String] = []
            for group in groups {
                let eligible = rotating(for: group.id, audiences: audiences, leaving: leaving)
                // The fewest rounds had comes first: a group starts round 2 once it had every notice once, and a
                // notice added to the library later reaches it before the next round goes on.
                let least = eligible.map { rotation.round(of: $0.notice.id, for: group.id) }.min()
                guard let least, least == 0 || schedule.whenExhausted == .restart,
                    let next = eligible.first(where: { rotation.round(of: $0.notice.id, for: group.id) == least })
                else {
                    exhausted.append(group.id)
                    continue
                }
                let key = Notice.roundID(of: next.notice.id, round: least + 1)
                if chosen[key] == nil {
                    order.append(key)
                    chosen[key] = Choice(entry: next, round: least + 1, groups: [])
                }
                chosen[key]!.groups.append(group)
            }
            let choices = order.map { chosen[$0]! }
            return (choices, exhausted, choices.isEmpty ? "every selected group has had every library notice" : "")
        }
    }

    /// The plans for `schedule` firing at `fireAt`, from what the ledger says each group had.
    public func plans(for schedule: ScheduleSpec, at fireAt: Date, now: Date) async throws -> Outcome {
        var rotation = Rotation()
        if !schedule.pick.isSummary {
            let groups = try schedule.selector.resolve(in: config.groups)
            rotation = try await self.rotation(groupIDs: groups.map(\.id))
        }
        return try await outcome(for: schedule, at: fireAt, now: now, rotation: rotation)
    }

    /// The plans for `schedule` firing at `fireAt` given the `rotation`: the firing's own path, and the preview's.
    public func outcome(
        for schedule: ScheduleSpec, at fireAt: Date, now: Date, rotation: Rotation
    ) async throws
        -> Outcome
    {
        if case .summary(let period) = schedule.pick {
            guard let summaries else {
                return Outcome(
                    plans: [], exhausted: [], note: "no summary writer: report_to summaries are posted by the daemon")
            }
            let day = LocalDay(date: fireAt, timeZone: config.timeZone)
            let notice = try await summaries(period, day)
            var plan = try Planner(config: config, sinks: sinks).plan(
                notice, to: schedule.selector, origin: "report_to:\(period.rawValue)", now: now)
            for index in plan.targets.indices { plan.targets[index].notBefore = max(fireAt, now) }
            return Outcome(plans: [plan], exhausted: [], note: "")
        }
        // A library notice that can't be planned (too long for a group's platform, say) is left out with the reason
        // and the choice made again without it: one bad file never stops a schedule.
        var refused: [(notice: String, why: String)] = []
        choosing: while true {
            let (choices, exhausted, note) = try choose(
                schedule, at: fireAt, rotation: rotation, leaving: Set(refused.map(\.notice)))
            let chosen = choices.filter { !$0.groups.isEmpty }
            let ids = chosen.map { Notice.roundID(of: $0.entry.notice.id, round: $0.round) }
            // A library file edited after its id was recorded goes out as a revision, never as a conflict that
            // would stop every later firing.
            let recorded = try await store.notices(ids: ids)
            let planner = Planner(config: config, sinks: sinks)
            var plans: [Plan] = []
            var revised: [(library: String, recorded: String)] = []
            for (choice, id) in zip(chosen, ids) {
                var notice = choice.entry.notice
                notice.id = id
                notice = notice.recorded(over: recorded[id]?.contentHash)
                if notice.id != id { revised.append((id, notice.id)) }
                var plan: Plan
                do {
                    plan = try planner.plan(
                        notice, to: Selector(groupIDs: choice.groups.map(\.id)), origin: "schedule:\(schedule.id)",
                        now: now)
                } catch {
                    refused.append((choice.entry.notice.id, error.message))
                    continue choosing
                }
                // Due at the firing; non-urgent notices inside quiet hours wait for their end.
                var due = max(fireAt, now)
                if !notice.urgent, let quiet = config.quietHours {
                    due = quiet.release(due, in: config.timeZone)
                }
                for index in plan.targets.indices { plan.targets[index].notBefore = due }
                plans.append(plan)
            }
            let why = refused.map { "\($0.notice): \($0.why)" }.joined(separator: "; ")
            return Outcome(
                plans: plans, exhausted: exhausted, note: plans.isEmpty && !why.isEmpty ? why : note,
                revised: revised, refused: refused)
        }
    }
}

extension ScheduleSpec.Pick {
    /// Whether this is a `report_to` summary rather than a library pick.
    public var isSummary: Bool {
        if case .summary = self { return true }
        return false
    }
}
