import Foundation
import GridcastCore
import Ledger
import Scheduling
import Sinks

/// Writes the summary notice of a period (the admin group's daily or weekly report) as the ledger reads now: handed
/// in by the daemon, which knows the reports, so planning does not depend on them.
public typealias SummaryWriter = @Sendable (SummaryPeriod, LocalDay) async throws -> Notice

/// Decides what one firing of a schedule sends: which library notice each selected group gets, when (quiet hours),
/// and which groups have had the whole library.
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

    /// For each group, the library notices it has had, by library id: any version of them (``Notice/libraryID(of:)``)
    /// and any state, so a delivery that ended dead moves the rotation on instead of being picked again.
    public func had(groupIDs: [String]) async throws -> [String: Set<String>] {
        let recorded = try await store.noticesHad(
            groupIDs: groupIDs, among: config.library.entries.map(\.notice.id))
        return recorded.mapValues { Set($0.map(Notice.libraryID(of:))) }
    }

    /// Which library notice goes to which of the selected groups, given what each group already `had`.
    public func choose(
        _ schedule: ScheduleSpec, at fireAt: Date, had: [String: Set<String>]
    ) throws
        -> (choices: [(entry: NoticeLibrary.Entry, groups: [Group])], exhausted: [String], note: String)
    {
        let groups = try schedule.selector.resolve(in: config.groups)
        let library = config.library
        switch schedule.pick {
        case .summary:
            return ([], [], "")  // not a library notice: see plans(for:at:now:)
        case .notice(let id):
            guard let entry = library.entry(id) else { return ([], [], "notice \(id) is not in the library") }
            return ([(entry, groups.filter { !(had[$0.id]?.contains(id) ?? false) })], [], "")
        case .dated:
            let day = LocalDay(date: fireAt, timeZone: config.timeZone).description
            guard let entry = library.entries.first(where: { $0.date == day }) else {
                return ([], [], "no library notice is dated \(day)")
            }
            return ([(entry, groups.filter { !(had[$0.id]?.contains(entry.notice.id) ?? false) })], [], "")
        case .nextUnsent:
            var order: [String] = []
            var chosen: [String: (NoticeLibrary.Entry, [Group])] = [:]
            var exhausted: [String] = []
            for group in groups {
                let next = library.entries.first { entry in
                    guard !(had[group.id]?.contains(entry.notice.id) ?? false) else { return false }
                    guard let audience = entry.selector else { return true }
                    // A library notice for `tag:elderly` goes only to groups that selector would pick.
                    return (try? audience.resolve(in: [group]))?.isEmpty == false
                }
                guard let next else {
                    exhausted.append(group.id)
                    continue
                }
                if chosen[next.notice.id] == nil {
                    order.append(next.notice.id)
                    chosen[next.notice.id] = (next, [])
                }
                chosen[next.notice.id]!.1.append(group)
            }
            let choices = order.map { (entry: chosen[$0]!.0, groups: chosen[$0]!.1) }
            return (choices, exhausted, choices.isEmpty ? "every selected group has had every library notice" : "")
        }
    }

    /// The plans for `schedule` firing at `fireAt`.
    public func plans(for schedule: ScheduleSpec, at fireAt: Date, now: Date) async throws -> Outcome {
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
        let groups = try schedule.selector.resolve(in: config.groups)
        let had = try await self.had(groupIDs: groups.map(\.id))
        // A library notice that can't be planned (too long for a group's platform, say) is left out with the reason
        // and the choice made again without it: one bad file never stops a schedule.
        var refused: [(notice: String, why: String)] = []
        choosing: while true {
            var seen = had
            if !refused.isEmpty {
                for group in groups { seen[group.id, default: []].formUnion(refused.map(\.notice)) }
            }
            let (choices, exhausted, note) = try choose(schedule, at: fireAt, had: seen)
            let byNotice = choices.filter { !$0.groups.isEmpty }.map { ($0.entry, $0.groups) }
            // A library file edited after its id was recorded goes out as a revision, never as a conflict that
            // would stop every later firing.
            let recorded = try await store.notices(ids: byNotice.map(\.0.notice.id))
            let planner = Planner(config: config, sinks: sinks)
            var plans: [Plan] = []
            var revised: [(library: String, recorded: String)] = []
            for (entry, members) in byNotice {
                let notice = entry.notice.recorded(over: recorded[entry.notice.id]?.contentHash)
                if notice.id != entry.notice.id { revised.append((entry.notice.id, notice.id)) }
                var plan: Plan
                do {
                    plan = try planner.plan(
                        notice, to: Selector(groupIDs: members.map(\.id)), origin: "schedule:\(schedule.id)", now: now)
                } catch {
                    refused.append((entry.notice.id, error.message))
                    continue choosing
                }
                // Due at the firing; non-urgent notices inside quiet hours wait for their end.
                var due = max(fireAt, now)
                if !entry.notice.urgent, let quiet = config.quietHours {
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
