/// Deliveries counted by state, held inline: a report holds one per group, and 100,000 dictionaries of a state or
/// two cost more memory than the rest of the report.
public struct StateCounts: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private var counts = InlineArray<12, UInt32>(repeating: 0)

    /// No deliveries.
    public init() {}

    /// The counts given.
    public init(dictionaryLiteral elements: (DeliveryState, Int)...) {
        for (state, count) in elements { self[state] += count }
    }

    /// How many deliveries are in `state`.
    public subscript(state: DeliveryState) -> Int {
        get { Int(counts[state.ordinal]) }
        set { counts[state.ordinal] = UInt32(newValue) }
    }

    /// How many deliveries are in `state` (the default is never needed: a count starts at zero).
    public subscript(state: DeliveryState, default _: Int) -> Int {
        get { self[state] }
        set { self[state] = newValue }
    }

    /// Not yet settled (``DeliveryState/queued``): 待发送.
    public var queued: Int { DeliveryState.queued.reduce(0) { $0 + self[$1] } }

    /// Every delivery counted.
    public var total: Int { DeliveryState.allCases.reduce(0) { $0 + self[$1] } }

    /// Adds `other`'s counts.
    public mutating func add(_ other: StateCounts) {
        for state in DeliveryState.allCases { self[state] += other[state] }
    }

    public static func == (lhs: StateCounts, rhs: StateCounts) -> Bool {
        DeliveryState.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }
}

extension DeliveryState {
    /// The state's place in ``StateCounts``.
    var ordinal: Int {
        switch self {
        case .planned: 0
        case .claimed: 1
        case .sent: 2
        case .accepted: 3
        case .retry: 4
        case .dead: 5
        case .inDoubt: 6
        case .cancelled: 7
        case .awaitingConfirmation: 8
        case .quotaRefused: 9
        case .notDelivered: 10
        case .expired: 11
        }
    }
}
