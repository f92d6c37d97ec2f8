import Foundation
import GridcastCore

/// What comes into the ledger: notices with their planned deliveries, and schedule firings.
public protocol PlanningLedger: Sendable {
    /// Records the notice (or finds it, when the same id holds the same content) and its planned deliveries.
    /// - Throws: ``LedgerError/conflict(noticeID:)`` when the id holds other content.
    func plan(_ plan: Plan) async throws -> PlanResult

    /// Records a schedule firing and its plans in one transaction; nil (and nothing planned) when that firing was
    /// already recorded, so a firing happens once across restarts and processes.
    func recordFiring(_ firing: Firing, plans: [Plan]) async throws -> [PlanResult]?

    /// Every recorded firing of a schedule, oldest first.
    func firings(scheduleID: String) async throws -> [Firing]

    /// The latest recorded firing time of a schedule.
    func lastFiring(scheduleID: String) async throws -> Date?

    /// For each group, the recorded ids of these notices and of their revisions (``Notice/revisionID(of:contentHash:)``)
    /// that it has a delivery of, in any state: a dead delivery counts, so a rotation moves on past it.
    func noticesHad(groupIDs: [String], among noticeIDs: [String]) async throws -> [String: Set<String>]

    /// Re-times the deliveries that wait for quiet hours to end (planned, never attempted, of a non-urgent notice,
    /// due after `now`): each becomes due at `release` of its planning time or `now`, whichever is later, in one
    /// transaction logged under `actor`. Returns how many moved.
    func retimeHeld(now: Date, by actor: String, release: @escaping @Sendable (Date) -> Date) async throws -> Int
}
