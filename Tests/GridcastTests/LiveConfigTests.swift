import Daemon
import GridcastCore
import GridcastTesting
import Testing

/// A reload must never fall between reading the config and reading its generation: a service that saw the old
/// config with the new generation would run on the old config until the next reload.
@Suite("live config")
struct LiveConfigTests {
    @Test("a snapshot's config is always the one its generation numbers, while reloads race with readers")
    func snapshotIsConsistentUnderConcurrentReloads() async {
        func config(_ generation: Int) -> GridcastConfig {
            var config = GridcastConfig(file: "gen.yaml")
            config.ledger.path = "generation-\(generation)"
            return config
        }
        let live = LiveConfig(config(0))
        let reloads = 3_000
        let mismatches = await withTaskGroup(of: [String].self) { group in
            group.addTask {
                for generation in 1...reloads { await live.replace(with: config(generation)) }
                return []
            }
            for _ in 0..<2 {
                group.addTask {
                    var seen: [String] = []
                    while true {
                        let snapshot = await live.snapshot
                        if snapshot.config.ledger.path != "generation-\(snapshot.generation)" {
                            seen.append("\(snapshot.config.ledger.path) as generation \(snapshot.generation)")
                        }
                        if snapshot.generation == reloads { return seen }
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5)) … \(mismatches.count) in all")
        // The cheap poll agrees with the last snapshot.
        #expect(live.generation == reloads)
        #expect(await live.snapshot.generation == live.generation)
    }
}
