import Ledger

extension PeriodReport {
    /// The report's rows per group. A report made from the ledger keeps the ledger's counts and makes each row when
    /// it is read: a city's 100,000 groups are held once, not once as counts and again as rows.
    public struct GroupRows: RandomAccessCollection, Sendable, Equatable, Codable, ExpressibleByArrayLiteral {
        private enum Storage: Sendable {
            case counted([DeliveryTally.Group])
            case rows([GroupRow])
        }
        private let storage: Storage

        /// The rows given.
        public init(_ rows: [GroupRow]) { storage = .rows(rows) }

        /// The rows given.
        public init(arrayLiteral rows: GroupRow...) { storage = .rows(rows) }

        /// The rows of the ledger's counts, one per group.
        init(counted groups: [DeliveryTally.Group]) { storage = .counted(groups) }

        public var startIndex: Int { 0 }

        public var endIndex: Int {
            switch storage {
            case .counted(let groups): groups.count
            case .rows(let rows): rows.count
            }
        }

        public subscript(position: Int) -> GroupRow {
            switch storage {
            case .counted(let groups): GroupRow(counted: groups[position])
            case .rows(let rows): rows[position]
            }
        }

        public static func == (lhs: GroupRows, rhs: GroupRows) -> Bool { lhs.elementsEqual(rhs) }

        public init(from decoder: any Decoder) throws { storage = .rows(try [GroupRow](from: decoder)) }

        public func encode(to encoder: any Encoder) throws { try Array(self).encode(to: encoder) }
    }
}

extension PeriodReport.GroupRow {
    /// The row of a group's counts.
    init(counted group: DeliveryTally.Group) {
        let states = group.states
        self.init(
            groupID: group.id, groupName: group.name, sink: group.sink, deliveries: states.total,
            sent: states[.sent], dead: states[.dead], inDoubt: states[.inDoubt],
            queued: states.queued, accepted: states[.accepted])
        self = withCustomerGroupCounts(states)
    }
}
