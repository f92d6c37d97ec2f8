import Foundation
import Ledger

/// The audit page's actions on the ledger: a thin shell over the operator operations of ``LedgerQueries`` that
/// `gridcast ledger retry` and `gridcast ledger resolve` call, so each changed row records who, why and when alike.
struct AuditActions: Sendable {
    /// Why an action changes nothing.
    enum Failure: Error, Sendable, Equatable {
        /// The ledger has no such notice.
        case unknownNotice
        /// Some selected groups have no delivery of the notice (state nil) or one in another state.
        case notApplicable([Mismatch])
    }

    /// A selected group whose delivery the action can't take.
    struct Mismatch: Sendable, Equatable {
        var groupID: String
        /// Its delivery's state; nil when the notice has no delivery to the group.
        var state: DeliveryState?
    }

    /// The ledger.
    var store: any LedgerStore

    /// The deliveries `request` selects, each checked to be in the action's state; nothing is changed.
    /// - Throws: ``Failure`` when the notice is unknown or a selected delivery is missing or in another state.
    func selected(_ request: AuditActionRequest) async throws -> [DeliveryRecord] {
        guard try await store.notice(id: request.noticeID) != nil else { throw Failure.unknownNotice }
        let rows = try await store.deliveries(noticeID: request.noticeID)
        let byGroup = Dictionary(rows.map { ($0.groupID, $0) }, uniquingKeysWith: { first, _ in first })
        let mismatches = request.groupIDs.compactMap { groupID -> Mismatch? in
            let state = byGroup[groupID]?.state
            return state == request.kind.requiredState ? nil : Mismatch(groupID: groupID, state: state)
        }
        guard mismatches.isEmpty else { throw Failure.notApplicable(mismatches) }
        return request.groupIDs.compactMap { byGroup[$0] }
    }

    /// Carries out `request` as `actor` at `now`, after checking the whole selection; returns the changed rows.
    /// Retry is one transaction; resolve settles one delivery per transaction, as `gridcast ledger resolve` does.
    /// - Throws: ``Failure`` as ``selected(_:)``; a ledger failure as it is.
    func perform(_ request: AuditActionRequest, by actor: String, at now: Date) async throws -> [DeliveryRecord] {
        _ = try await selected(request)
        switch request.kind {
        case .retry:
            let result = try await store.retry(
                DeliverySelection(noticeID: request.noticeID, groupIDs: request.groupIDs), by: actor,
                note: request.note, at: now)
            return result.changed
        case .resolve(let resolution):
            var changed: [DeliveryRecord] = []
            for groupID in request.groupIDs {
                changed.append(
                    try await store.resolve(
                        noticeID: request.noticeID, groupID: groupID, as: resolution, by: actor, note: request.note,
                        at: now))
            }
            return changed
        }
    }
}
