import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Synchronization
import Testing

@testable import Ledger

/// What `ledger verify`'s fast check (``ChainDigest``) alone says of `store`: its head when consistent, nil when
/// `verify` would go on to the replay. A test that expects a consistent ledger asks this too, so the fast check
/// can't quietly hand every ledger to the replay.
func fastCheck(_ store: any LedgerStore, checkpoint: LedgerCheckpoint? = nil) async throws -> LedgerCheckpoint? {
    switch store {
    case let sqlite as SQLiteLedgerStore: try await sqlite.digestHead(checkpoint: checkpoint)
    case let postgres as PostgresLedgerStore: try await postgres.digestHead(checkpoint: checkpoint)
    default: nil
    }
}

/// The store contract for `ledger verify`: the fast check and the replay agree on both stores.
@Suite("ledger verify's fast check, on each store")
struct LedgerDigestTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test(arguments: StoreKind.allCases)
    func aLedgerChecksConsistentAndAnEditedRowOrAWrongCheckpointDoesNot(kind: StoreKind) async throws {
        let directory = try TemporaryDirectory("digest")
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(
            Plan(
                notice: Notice(id: "n", title: "T", text: "不转账 \"引号\"\n", urgent: false), selector: "all",
                origin: "test",
                targets: (0..<5).map { PlanTarget(groupID: "g\($0)", groupName: "群\\\($0)", sink: "wecom") },
                now: now))
        let claims = try await store.claim(
            ClaimRequest(
                owner: "host:1:1", limit: 5, noticeID: nil, now: now, timeout: .seconds(15), leaseMargin: .seconds(30)))
        #expect(claims.count == 5)
        let later = now.addingTimeInterval(1)
        _ = try await store.record([
            DeliveryOutcome(claim: claims[0], result: .sent, partsSent: 1, error: nil, at: later),
            DeliveryOutcome(claim: claims[1], result: .dead, partsSent: 0, error: "坏", at: later),
            DeliveryOutcome(claim: claims[2], result: .inDoubt, partsSent: 0, error: "超时", at: later),
        ])
        // Two claims are left to expire: the newest images of those rows are the expiry's.
        _ = try await store.expireLeases(now: later.addingTimeInterval(3600), policy: .hold) { _ in true }
        let head = try await store.head()
        #expect(try await fastCheck(store) == head)
        let seen = ProgressLog()
        #expect(
            try await store.verify(checkpoint: nil, progress: { seen.append($0) }) == .ok(events: head.seq, head: head))
        // It starts at nothing read and ends with every event and row.
        let reports = seen.reports
        #expect(reports.first?.events == 0 && reports.first?.rows == 0)
        #expect(reports.last?.events == head.seq && reports.last?.rows == reports.last?.rowCount)
        #expect(reports.last?.rowCount == 6, "a notice and its five deliveries")
        #expect(reports.first?.description == "events 0%" && reports.last?.description == "rows 100%")
        #expect(try await fastCheck(store, checkpoint: LedgerCheckpoint(seq: 2, hash: head.hash)) == nil)

        let edit = "UPDATE deliveries SET state = 'sent' WHERE group_id = 'g1'"
        switch kind {
        case .sqlite:
            try await DatabaseQueue(path: directory.file("ledger.sqlite")).write { db in try db.execute(sql: edit) }
        case .postgres: try await PostgresTestServer.execute(edit, key: directory.path)
        }
        #expect(try await fastCheck(store) == nil)
        guard case .failed(let problem) = try await store.verify(checkpoint: nil) else {
            Issue.record("the edit was not caught")
            return
        }
        #expect(problem.contains("deliveries row"), "\(problem)")
    }
}

/// The progress reports of one verification, as they came.
final class ProgressLog: Sendable {
    private let log = Mutex<[VerifyProgress]>([])

    func append(_ progress: VerifyProgress) {
        log.withLock { $0.append(progress) }
    }

    var reports: [VerifyProgress] { log.withLock { $0 } }
}
