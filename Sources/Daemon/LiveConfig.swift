import GridcastCore
import Synchronization

/// The config the daemon runs on now. SIGHUP swaps in a validated new one; services read it at the top of each
/// cycle, and long-running loops watch ``generation`` to know when to start a new cycle.
public final class LiveConfig: Sendable {
    private let storage: Storage
    private let counter = Atomic<Int>(0)

    private actor Storage {
        var config: GridcastConfig
        init(_ config: GridcastConfig) { self.config = config }
        func replace(_ config: GridcastConfig) { self.config = config }
    }

    /// Starts with `config`.
    public init(_ config: GridcastConfig) {
        storage = Storage(config)
    }

    /// The current config.
    public var current: GridcastConfig {
        get async { await storage.config }
    }

    /// Changes with every successful reload.
    public var generation: Int {
        counter.load(ordering: .acquiring)
    }

    /// Installs a new config.
    public func replace(with config: GridcastConfig) async {
        await storage.replace(config)
        counter.add(1, ordering: .releasing)
    }
}
