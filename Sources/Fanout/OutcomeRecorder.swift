import Ledger

/// Group commit for outcomes: every finished transfer hands its outcome here and waits until it is durable.
/// While one batch commits, the next accumulates, so a busy fan-out makes few, large transactions and a quiet one
/// commits each outcome at once.
actor OutcomeRecorder {
    private let store: any LedgerStore
    private var pending: [(DeliveryOutcome, CheckedContinuation<Bool, any Error>)] = []
    private var flushing = false
    static let commitWindow = Duration.milliseconds(2)

    init(store: any LedgerStore) {
        self.store = store
    }

    /// Records an outcome; returns false when the claim was lost (another process or a lease expiry took it).
    func record(_ outcome: DeliveryOutcome) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((outcome, continuation))
            if !flushing {
                flushing = true
                Task {
                    // A short commit window (as PostgreSQL's commit_delay) lets outcomes that finish together
                    // share one fsync instead of queueing for one each.
                    try? await Task.sleep(for: Self.commitWindow)
                    await self.flush()
                }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                let started = ContinuousClock.now
                let lost = Set(try await store.record(batch.map(\.0)))
                FanoutMetrics.commit("outcomes", duration: ContinuousClock.now - started)
                for (outcome, continuation) in batch {
                    continuation.resume(returning: !lost.contains(outcome.claim.id))
                }
            } catch {
                for (_, continuation) in batch { continuation.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
