import Foundation

/// One machine's ledger: a dead holder is told by its process (``LedgerStore``'s liveness callback), so instances
/// don't beat and none are listed.
extension SQLiteLedgerStore {
    public var heartbeatInterval: Duration? { nil }

    public func heartbeat(_ instance: InstanceIdentity) async throws {}

    public func stopped(_ instance: InstanceIdentity) async throws {}

    public func instances() async throws -> [InstanceStatus] { [] }
}
