/// Whether the ledger answers, as the daemon last found it: `/healthz` says 503 with the reason while it doesn't.
/// The status service's write probe and the instance beats of a shared ledger report here.
public actor LedgerHealth {
    /// Why the ledger is not usable now, or nil when it answered last.
    public private(set) var problem: String?

    /// Healthy until told otherwise.
    public init() {}

    /// The ledger answered.
    public func answered() { problem = nil }

    /// The ledger could not be reached or written, for this reason (secret-free: the store's errors are).
    public func failed(_ reason: String) { problem = reason }
}
