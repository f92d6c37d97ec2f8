/// The ledger's tamper evidence: every change is an event in one hash chain (`docs/ledger.md`).
public protocol LedgerAudit: Sendable {
    /// The head of the event chain: the latest event's sequence number and hash (0 and zeros when empty).
    func head() async throws -> LedgerCheckpoint

    /// Recomputes the event chain, replays it and compares the result with every row of every ledger table and with
    /// the schema; with a checkpoint, also proves the chain still extends it.
    /// `progress` is called now and then as the events and rows are read.
    func verify(checkpoint: LedgerCheckpoint?, progress: VerifyObserver?) async throws -> LedgerVerification
}

extension LedgerAudit {
    /// ``verify(checkpoint:progress:)`` with nobody watching.
    public func verify(checkpoint: LedgerCheckpoint?) async throws -> LedgerVerification {
        try await verify(checkpoint: checkpoint, progress: nil)
    }
}
