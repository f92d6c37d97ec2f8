import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The process's file descriptors: one each for every API connection, every webhook connection and every ledger
/// file handle.
public enum DescriptorLimit {
    /// Descriptors kept back from the API for deliveries, the ledger and the rest of the process: two per request
    /// in flight (a connection, and one spare for name resolution or a reconnect) and 64 for the ledger's
    /// connections (file, WAL, shared memory each), the event loops and the notify socket.
    public static func reserve(concurrency: Int) -> Int { 2 * concurrency + 64 }

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (a service manager's `LimitNOFILE=` sets both; a shell's
    /// default soft limit is often 1,024 under a much higher hard one). Returns the soft limit now in force and
    /// the one before.
    @discardableResult
    public static func raise() -> (now: Int, before: Int) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        let before = Int(clamping: limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return (before, before) }
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 else { return (before, before) }
        return (Int(clamping: raised.rlim_cur), before)
    }

    /// The API's connection cap: `configured`, lowered so that the API can't take the descriptors the deliveries
    /// and the ledger need (never below 4, so the API stays reachable).
    public static func apiConnections(configured: Int, softLimit: Int, concurrency: Int) -> Int {
        guard softLimit > 0 else { return configured }
        return max(4, min(configured, softLimit - reserve(concurrency: concurrency)))
    }
}
