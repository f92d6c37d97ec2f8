import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// Against the real `gridcast serve`: a flood of concurrent submissions mixed with bad tokens
/// and oversized bodies.
///
/// Already covered in `GridcastTests/APITests.swift` (in-process API): every form of wrong or missing token → 401
/// on every route, a 1 MiB body → 413; and in `GridcastTests/DaemonTests.swift`: 401 through the real binary.
@Suite("API abuse: 1,000 concurrent notices, bad tokens and huge bodies at once", .serialized)
struct APIAbuseTests {
    static let token = "abuse-token-0123456789abcdef"

    @Test func aThousandConcurrentNoticesArePlannedOnceEachAmidBadRequests() async throws {
        let directory = try TemporaryDirectory("safety-abuse")
        defer { directory.remove() }
        let emulator = try await EmulatorServer.start(groups: TestGroups.wecom(2, port: 0), enforceRateLimits: false)
        let apiPort = try unusedLoopbackPort()
        let ledger = directory.file("ledger.sqlite")
        let config = try directory.write(
            "abuse.yaml",
            SafetyConfig.yaml(
                groups: TestGroups.wecom(2, port: emulator.port), ledger: ledger, concurrency: 32,
                extra: SafetyConfig.api(port: apiPort, token: Self.token))
        )
        let daemon = try WatchedProcess.gridcast(["serve", "--config", config])
        // One connection per request: 1,000 really are in flight at once.
        let api = APIClient(port: apiPort, token: Self.token, maxConnections: 1200)
        try await api.waitUntilServing()

        enum Kind: Sendable { case notice(Int), wrongToken, noToken, huge }
        var kinds = (0..<1000).map { Kind.notice($0) }
        kinds += Array(repeating: .wrongToken, count: 50) + Array(repeating: .noToken, count: 50)
        kinds += Array(repeating: .huge, count: 10)
        let hugeBody = #"{"to": "all", "text": ""# + String(repeating: "骗", count: 350_000) + #""}"#
        let answers = await withTaskGroup(of: (Kind, Int).self) { group in
            for kind in kinds.shuffled() {
                group.addTask {
                    let result: Result<HTTPResponse, TransportError>
                    switch kind {
                    case .notice(let index):
                        result = await api.post(#"{"id": "flood-\#(index)", "text": "第\#(index)条：不转账", "to": "all"}"#)
                    case .wrongToken:
                        result = await api.post(
                            #"{"id": "intruder", "text": "x", "to": "all"}"#, as: .bearer("not-the-token-0123456789"))
                    case .noToken:
                        result = await api.post(#"{"id": "intruder", "text": "x", "to": "all"}"#, as: .none)
                    case .huge:
                        result = await api.call(
                            "POST", "/v1/notices", body: Array(hugeBody.utf8), timeout: .seconds(30))
                    }
                    return (kind, (try? result.get().status) ?? 0)
                }
            }
            return await group.reduce(into: [(Kind, Int)]()) { $0.append($1) }
        }
        var statuses: [String: [Int: Int]] = [:]
        for (kind, status) in answers {
            let name =
                switch kind {
                case .notice: "notice"
                case .wrongToken: "wrong token"
                case .noToken: "no token"
                case .huge: "huge"
                }
            statuses[name, default: [:]][status, default: 0] += 1
        }
        #expect(statuses["notice"] == [202: 1000], "\(statuses)")
        #expect(statuses["wrong token"] == [401: 50], "\(statuses)")
        #expect(statuses["no token"] == [401: 50], "\(statuses)")
        // 413, or — when the server answers 413 and closes while the client is still uploading under load — a
        // connection the client sees end early. Never accepted.
        #expect(Set(statuses["huge", default: [:]].keys).isSubset(of: [413, 0]), "\(statuses)")
        #expect(statuses["huge", default: [:]][413, default: 0] >= 1, "\(statuses)")

        // Still healthy, and a repeat of every notice is recognised, not planned again.
        #expect(await api.status("GET", "/healthz") == 200)
        let repeats = await withTaskGroup(of: Int.self) { group in
            for index in stride(from: 0, to: 1000, by: 10) {
                group.addTask {
                    (try? await api.post(#"{"id": "flood-\#(index)", "text": "第\#(index)条：不转账", "to": "all"}"#).get()
                        .status)
                        ?? 0
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(repeats.allSatisfy { $0 == 200 }, "\(repeats)")

        // Each notice planned once: two deliveries each, and the daemon delivers them all, once per group.
        try await waitUntil(timeout: .seconds(120)) { try await emulator.received().count >= 2000 }
        let store = try SQLiteLedgerStore(path: ledger)
        for index in stride(from: 0, to: 1000, by: 1) {
            let rows = try await store.deliveries(noticeID: "flood-\(index)")
            #expect(rows.count == 2, "flood-\(index)")
        }
        #expect(try await store.notice(id: "intruder") == nil)
        let everything = try await store.deliveries(changedFrom: .distantPast, to: .distantFuture)
        #expect(everything.count == 2000, "nothing but the 1,000 notices was planned")
        #expect(everything.allSatisfy { $0.noticeID.hasPrefix("flood-") })
        let received = try await emulator.received()
        let perPair = Dictionary(received.map { ("\($0.group)|\($0.text)", 1) }, uniquingKeysWith: +)
        #expect(perPair.count == 2000)
        #expect(perPair.values.allSatisfy { $0 == 1 })

        await api.shutdown()
        #expect(await daemon.stop() == 0, "\(daemon.stderr.suffix(2000))")
        #expect(!daemon.stderr.contains("level=critical"))
        daemon.discardOutput()
        try await emulator.stop()
    }
}
