import Foundation

/// Deliveries counted by group, notice, day and state, as a store adds them up (``LedgerQueries/tally(days:groups:)``):
/// what reports are made of, at the cost of their answer rather than of the ledger's size. A delivery counts on the
/// day of its latest change (docs/ledger.md, "Reports").
public struct DeliveryTally: Sendable, Equatable {
    /// One group's deliveries by state.
    public struct Group: Sendable, Equatable {
        public var id: String
        /// The group's name and platform as its deliveries recorded them (the greatest, should they differ).
        public var name: String
        public var sink: String
        public var states: StateCounts

        public init(id: String, name: String, sink: String, states: StateCounts) {
            self.id = id
            self.name = name
            self.sink = sink
            self.states = states
        }
    }

    /// One notice's deliveries by state.
    public struct Notice: Sendable, Equatable {
        public var id: String
        public var title: String
        public var states: StateCounts

        public init(id: String, title: String, states: StateCounts) {
            self.id = id
            self.title = title
            self.states = states
        }
    }

    /// One day's deliveries by state, and how many notices and groups had a delivery sent that day.
    public struct Day: Sendable, Equatable {
        public var states: StateCounts
        public var sentNotices: Int
        public var sentGroups: Int

        public init(states: StateCounts, sentNotices: Int, sentGroups: Int) {
            self.states = states
            self.sentNotices = sentNotices
            self.sentGroups = sentGroups
        }
    }

    /// Every group with a delivery counted, by id.
    public var groups: [Group]
    /// Every notice with a delivery counted, by id.
    public var notices: [Notice]
    /// One entry per day asked, in order.
    public var days: [Day]
    /// The deliveries that did not get through (``DeliveryState/isFailure``), in listing order.
    public var failures: [DeliveryRecord]

    public init(groups: [Group], notices: [Notice], days: [Day], failures: [DeliveryRecord]) {
        // A store hands the groups in order already; a sorted copy of 100,000 would be 10 MiB more.
        let inOrder = zip(groups, groups.dropFirst()).allSatisfy { $0.id < $1.id }
        self.groups = inOrder ? groups : groups.sorted { $0.id < $1.id }
        self.notices = notices.sorted { $0.id < $1.id }
        self.days = days
        self.failures = failures
    }

    /// The tally of `records` (every delivery whose latest change falls in one of `days`, in listing order), added up
    /// here: for what holds the rows already.
    public init(records: [DeliveryRecord], days: [Range<Date>]) {
        var groups: [String: Group] = [:]
        var notices: [String: Notice] = [:]
        var dayStates = Array(repeating: StateCounts(), count: days.count)
        var daySent = Array(repeating: (notices: Set<String>(), groups: Set<String>()), count: days.count)
        for record in records {
            var group = groups[record.groupID] ?? Group(id: record.groupID, name: "", sink: "", states: [:])
            group.name = max(group.name, record.groupName)
            group.sink = max(group.sink, record.sink)
            group.states[record.state, default: 0] += 1
            groups[record.groupID] = group
            notices[record.noticeID, default: Notice(id: record.noticeID, title: record.noticeTitle, states: [:])]
                .states[record.state, default: 0] += 1
            guard let day = days.firstIndex(where: { $0.contains(record.updatedAt) }) else { continue }
            dayStates[day][record.state, default: 0] += 1
            if record.state == .sent {
                daySent[day].notices.insert(record.noticeID)
                daySent[day].groups.insert(record.groupID)
            }
        }
        self.init(
            groups: Array(groups.values), notices: Array(notices.values),
            days: zip(dayStates, daySent).map {
                Day(states: $0, sentNotices: $1.notices.count, sentGroups: $1.groups.count)
            },
            failures: records.filter(\.state.isFailure))
    }

    /// SQL, the same on both stores, for the index of the range of `days` that `column` (milliseconds) falls in:
    /// `0` for one range, else a `CASE` over the ranges' ends (rows outside every range are filtered out before).
    static func dayIndex(of column: String, in days: [Range<Date>]) -> String {
        guard days.count > 1 else { return "0" }
        return "CASE "
            + days.dropLast().enumerated().map { "WHEN \(column) < \($1.upperBound.ledgerMillis) THEN \($0) " }.joined()
            + "ELSE \(days.count - 1) END"
    }

    /// Deliveries counted, by state, over the whole period.
    public var states: StateCounts {
        groups.reduce(into: StateCounts()) { total, group in total.add(group.states) }
    }
}

extension DeliveryState {
    /// Did not get through: dead, in doubt, or a customer group's task ended without posting it.
    public var isFailure: Bool {
        switch self {
        case .dead, .inDoubt, .quotaRefused, .notDelivered, .expired: true
        default: false
        }
    }

    /// The failure states (``isFailure``).
    public static let failures: [DeliveryState] = allCases.filter(\.isFailure)

    /// Not yet settled, so it may still be sent: planned, claimed, waiting to retry (reports' 待发送).
    public static let queued: [DeliveryState] = [.planned, .claimed, .retry]
}
