import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

@testable import Fanout

/// A poster notice's run: the emulator, a real SQLite ledger, libcurl, the real planner and dispatcher.
struct RichNoticeRig {
    let server: EmulatorServer
    let store: any LedgerStore
    let transport: CurlTransport
    let config: GridcastConfig
    let directory: TemporaryDirectory

    /// Starts an emulator for the groups `make(port)` gives, with `faults`, and opens a ledger.
    static func start(
        faults: [String: [FaultPlan.Fault]] = [:], _ make: (Int) -> [Group]
    ) async throws -> RichNoticeRig {
        let directory = try TemporaryDirectory("rich")
        let server = try await EmulatorServer.start(groups: make(0), faults: FaultPlan(faults: faults))
        let config = TestGroups.config(make(server.port), ledger: directory.file("ledger.sqlite"))
        return RichNoticeRig(
            server: server, store: try await StoreKind.sqlite.open(in: directory), transport: CurlTransport(),
            config: config, directory: directory)
    }

    /// The plan for `notice` to every group.
    func plan(_ notice: Notice) throws -> Plan {
        try Planner(config: config, sinks: .standard).plan(
            notice, to: try Selector(parsing: "all"), origin: "test", now: Date())
    }

    /// A dispatcher as the process `owner`, knowing the processes in `dead` are gone.
    func dispatcher(owner: String = LeaseOwner.current.description, dead: Set<String> = []) -> Dispatcher {
        Dispatcher(
            store: store, transport: transport, sinks: .standard,
            config: config, liveness: FixedLiveness(owner: owner, dead: dead))
    }

    /// Plans `notice` for every group and drains it.
    @discardableResult
    func send(_ notice: Notice) async throws -> [DeliveryRecord] {
        _ = try await store.plan(try plan(notice))
        _ = try await dispatcher().drain(noticeID: notice.id)
        return try await store.deliveries(noticeID: notice.id)
    }

    func close() async throws {
        await transport.shutdown()
        try await server.stop()
        directory.remove()
    }
}

/// Posters and cards for tests.
enum RichFixtures {
    /// A 1×1 PNG, 67 bytes, as a file holds it.
    static let png: [UInt8] = hex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            + "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082")

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func poster(url: String? = nil) -> Poster {
        try! Poster(bytes: png, url: url)
    }

    static let card = LinkCard(
        url: "https://mp.weixin.qq.com/s/anti-fraud-96110", title: "96110 预警劝阻专线", description: "接到 96110 来电请一定接听",
        pictureURL: "https://example.org/96110.png")

    /// A notice with text, a poster and a card.
    static func notice(id: String = "rich", posterURL: String? = nil) -> Notice {
        Notice(
            id: id, title: "反诈海报", text: "接到 96110 来电，请一定接听。", poster: poster(url: posterURL), link: card)
    }
}
