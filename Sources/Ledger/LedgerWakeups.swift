/// The hint that new work may be due: a plan, a firing or an operator's retry was committed. A dispatcher that has
/// nothing to do waits for it instead of polling fast; it still looks now and then (work due at a later time comes
/// due without a hint). Each store signals its own commits in this process; a shared store also relays the other
/// instances' (`docs/postgres.md`, "Waking up").
public actor LedgerWakeups {
    private var generation = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    /// No signal yet.
    public init() {}

    /// How many signals came so far: read it before looking for work, then wait for a signal after it, so a commit
    /// between the look and the wait is not missed.
    public var seen: Int { generation }

    /// New work may be due: wakes every waiter.
    public func signal() {
        generation += 1
        let woken = waiters.values
        waiters = [:]
        for waiter in woken { waiter.resume() }
    }

    /// Returns once a signal after `seen` came (at once if one already did), or when the waiting task is cancelled.
    public func wait(after seen: Int) async {
        guard generation <= seen, !Task.isCancelled else { return }
        let id = nextWaiter
        nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiters[id] = $0 }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume()
    }
}
