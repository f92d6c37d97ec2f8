import Foundation

/// A batch of outcomes with what recording each one writes, worked out before the write transaction.
///
/// Every claim waits for the transaction that records the outcomes before it, so the writer does only what needs the
/// database: the fenced updates. Each outcome's change and its event image (canonical JSON) are made beforehand, on
/// the caller's thread; the writer copies the image of each update that held its fence.
struct OutcomeBatch: Sendable {
    /// How one outcome is recorded.
    enum Entry: Sendable {
        /// A fenced update setting these values, logged as the image at this range of ``images``' bytes.
        case change(OutcomeChange, image: Range<Int>)
        /// A claim handed back unsent: its new state depends on the row's history, so it is read back.
        case deferral(until: Date)
    }

    /// The outcomes, in order.
    let outcomes: [DeliveryOutcome]
    /// How each outcome is recorded, in the same order.
    let entries: [Entry]
    /// The images of the changes.
    let images: CanonicalJSON

    init(_ outcomes: [DeliveryOutcome]) {
        var images = CanonicalJSON(reservingCapacity: outcomes.count * 320)
        var entries: [Entry] = []
        entries.reserveCapacity(outcomes.count)
        for outcome in outcomes {
            guard let change = OutcomeChange(outcome) else {
                if case .deferred(let until) = outcome.result { entries.append(.deferral(until: until)) }
                continue
            }
            entries.append(.change(change, image: change.append(of: outcome, to: &images)))
        }
        self.outcomes = outcomes
        self.entries = entries
        self.images = images
    }
}
