import GridcastCore
import Ledger

/// What each group has had of the notice library, round by round: the memory `next-unsent` chooses from
/// (`docs/scheduling.md`, "Rotation"). Read from the ledger by ``FiringPlanner/rotation(groupIDs:)``; a preview
/// adds the plans it shows with ``record(_:)``, so the next firing it shows chooses as the real one would.
public struct Rotation: Sendable {
    /// Group id → library id → the highest round of that notice the group has a delivery of (any state, any
    /// revision); a notice it never had is absent.
    public private(set) var rounds: [String: [String: Int]] = [:]

    /// An empty rotation: no group had anything.
    public init() {}

    /// The highest round of `libraryID` that `groupID` has had; 0 when it never had it.
    public func round(of libraryID: String, for groupID: String) -> Int {
        rounds[groupID]?[libraryID] ?? 0
    }

    /// Counts a recorded notice id (a library id, a round's or a revision's) as had by `groupID`.
    public mutating func add(recordedID: String, for groupID: String) {
        let (libraryID, round) = Notice.rotationKey(of: recordedID)
        rounds[groupID, default: [:]][libraryID] = max(round, self.round(of: libraryID, for: groupID))
    }

    /// Counts a plan's notice as had by each of its groups.
    public mutating func record(_ plan: Plan) {
        for target in plan.targets { add(recordedID: plan.notice.id, for: target.groupID) }
    }
}
