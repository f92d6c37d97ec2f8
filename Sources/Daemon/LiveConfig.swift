import GridcastCore
import Synchronization

/// The config the daemon runs on now. SIGHUP swaps in a validated new one; services take a ``snapshot`` at the
/// top of each cycle, and long-running loops watch ``generation`` to know when to start a new cycle.
public final class LiveConfig: Sendable {
    private let storage: Storage
    private let counter = Atomic<Int>(0)

    /// A config and the generation it belongs to, read together.
    public struct Snapshot: Sendable {
        /// The config.
        public var config: GridcastConfig
        /// The generation ``config`` was installed as: ``LiveConfig/generation`` differs once a newer one is in.
        public var generation: Int
    }

    private actor Storage {
        var snapshot: Snapshot
        init(_ config: GridcastConfig) { snapshot = Snapshot(config: config, generation: 0) }
        func replace(_ config: GridcastConfig, publish: @Sendable (Int) -> Void) {
            snapshot = Snapshot(config: config, generation: snapshot.generation + 1)
            publish(snapshot.generation)
        }
    }

    /// Starts with `config`.
    public init(_ config: GridcastConfig) {
        storage = Storage(config)
    }

    /// The current config and its generation, in one read: a reload can't fall between the two, so a loop that
    /// compares ``generation`` with the snapshot's never keeps running on a config older than its generation says.
    public var snapshot: Snapshot {
        get async { await storage.snapshot }
    }

    /// The current config.
    public var current: GridcastConfig {
        get async { await storage.snapshot.config }
    }

    /// Changes with every successful reload; cheap enough to poll.
    public var generation: Int {
        counter.load(ordering: .acquiring)
    }

    /// Installs a new config.
    public func replace(with config: GridcastConfig) async {
        // The counter is published inside the actor, with the snapshot it numbers: `generation` never runs ahead
        // of or behind what `snapshot` returns.
        await storage.replace(config) { counter.store($0, ordering: .releasing) }
    }
}
