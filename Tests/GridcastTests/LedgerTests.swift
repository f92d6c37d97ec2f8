import Foundation
import GRDB
import GridcastCore
import GridcastTesting
import Synchronization
import Testing

@testable import Ledger

@Suite("Ledger store contract: plan, claim, fence, expire, for every store; and the SQLite store's own")
struct LedgerTests {
    let directory: TemporaryDirectory
    let path: String
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    init() throws {
        directory = try TemporaryDirectory("ledger")
        path = directory.file("ledger.sqlite")
    }

    func plan(_ ids: [String] = ["a", "b", "c"], notice: Notice = Notice(id: "n1", title: "T", text: "不转账")) -> Plan {
        Plan(
            notice: notice, selector: "all", origin: "test",
            targets: ids.map { PlanTarget(groupID: $0, groupName: "群\($0)", sink: "wecom") }, now: now
        )
    }

    func claim(
        _ store: any LedgerStore, owner: String, limit: Int = 10, at: Date? = nil
    ) async throws -> [ClaimedDelivery] {
        try await store.claim(
            ClaimRequest(
                owner: owner, limit: limit, noticeID: nil, now: at ?? now, timeout: .seconds(15),
                leaseMargin: .seconds(30))
        )
    }

    @Test(arguments: StoreKind.allCases)
    func planIsIdempotentAndRefusesOtherContentUnderTheSameID(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        let first = try await store.plan(plan())
        #expect(first == PlanResult(created: true, added: 3, total: 3, createdAt: now))
        let again = try await store.plan(plan())
        #expect(again.created == false)
        #expect(again.added == 0)
        let widened = try await store.plan(plan(["a", "b", "c", "d"]))
        #expect(widened.added == 1)
        await #expect(throws: LedgerError.conflict(noticeID: "n1")) {
            try await store.plan(plan(notice: Notice(id: "n1", title: "T", text: "不转账!")))
        }
        #expect(try await store.deliveries(noticeID: "n1").count == 4)
    }

    @Test(arguments: StoreKind.allCases)
    func twoProcessesNeverClaimTheSameDelivery(kind: StoreKind) async throws {
        defer { directory.remove() }
        // Two stores on one file stand for two processes: separate connections, one SQLite write lock.
        let one = try await kind.open(in: directory)
        let two = try await kind.open(in: directory)
        _ = try await one.plan(plan((0..<200).map { "g\($0)" }))
        async let a = claimAll(one, owner: "one")
        async let b = claimAll(two, owner: "two")
        let (claimedA, claimedB) = try await (a, b)
        #expect(claimedA.count + claimedB.count == 200)
        #expect(Set(claimedA).isDisjoint(with: Set(claimedB)))
    }

    func claimAll(_ store: any LedgerStore, owner: String) async throws -> [String] {
        var ids: [String] = []
        while true {
            let batch = try await claim(store, owner: owner, limit: 7)
            if batch.isEmpty { return ids }
            ids += batch.map(\.id)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anAcceptedDeliveryIsFinalNeverClaimedAgainCountedApartAndVerifies(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b"]))
        let claimed = try await claim(store, owner: "p1")
        let a = try #require(claimed.first { $0.groupID == "a" })
        let b = try #require(claimed.first { $0.groupID == "b" })
        let lost = try await store.record([
            DeliveryOutcome(claim: a, result: .accepted, partsSent: 1, error: nil, at: now),
            DeliveryOutcome(claim: b, result: .sent, partsSent: 1, error: nil, at: now),
        ])
        #expect(lost.isEmpty)
        let rows = Dictionary(uniqueKeysWithValues: try await store.deliveries(noticeID: "n1").map { ($0.groupID, $0) })
        #expect(rows["a"]?.state == .accepted)
        #expect(rows["a"]?.sentAt == now)
        #expect(rows["a"]?.lastError == nil)
        #expect(rows["b"]?.state == .sent)
        #expect(DeliveryState.accepted.isFinal)
        #expect(try await store.stateCounts(noticeID: "n1") == [.accepted: 1, .sent: 1])
        // Final: never claimed again, never expired into doubt.
        #expect(try await claim(store, owner: "p2", at: now.addingTimeInterval(86_400)).isEmpty)
        #expect(
            try await store.expireLeases(
                now: now.addingTimeInterval(86_400), policy: .hold, isOwnerAlive: { _ in false }
            ).isEmpty)
        guard case .ok = try await store.verify(checkpoint: nil) else {
            Issue.record("the event log must replay to the accepted row")
            return
        }
    }

    @Test func anOlderLedgerUpgradesAndItsRowsCanEndAccepted() async throws {
        defer { directory.remove() }
        let notice = Notice(id: "n1", title: "T", text: "不转账")
        let queue = try DatabaseQueue(path: path)
        try SQLiteLedgerStore.migrator.migrate(queue, upTo: "v3-schedule-firings")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO notices VALUES ('n1', 'T', '不转账', 0, ?, 'all', 'test', 1);
                    INSERT INTO deliveries (id, notice_id, group_id, group_name, sink, state, next_at, planned_at,
                        updated_at) VALUES ('d1', 'n1', 'a', '群a', 'teams', 'planned', 1, 1, 1),
                        ('d2', 'n1', 'b', '群b', 'wecom', 'sent', 1, 1, 1);
                    """, arguments: [notice.contentHash])
        }
        // Adopted by the event log (v4), then rebuilt by v5, v7 and v8 with rows and rowids kept.
        try SQLiteLedgerStore.migrator.migrate(queue, upTo: "v7-cancelled")
        try queue.close()
        let store = try SQLiteLedgerStore(path: path)
        let claimed = try #require(try await claim(store, owner: "p1").first)
        #expect(
            try await store.record([
                DeliveryOutcome(claim: claimed, result: .accepted, partsSent: 1, error: nil, at: now)
            ])
            .isEmpty)
        #expect(try await store.stateCounts(noticeID: "n1") == [.accepted: 1, .sent: 1])
        guard case .ok = try await store.verify(checkpoint: nil) else {
            Issue.record("an upgraded ledger must verify")
            return
        }
    }

    @Test(arguments: StoreKind.allCases)
    func completionIsFencedOnClaimSequenceAndOwner(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a"]))
        let claimed = try #require(try await claim(store, owner: "p1").first)
        #expect(claimed.attempts == 1)
        #expect(claimed.claimSeq == 1)
        var stale = claimed
        stale.owner = "p2"
        #expect(
            try await store.record([DeliveryOutcome(claim: stale, result: .sent, partsSent: 1, error: nil, at: now)])
                == [claimed.id])
        var old = claimed
        old.claimSeq = 0
        #expect(
            try await store.record([DeliveryOutcome(claim: old, result: .dead, partsSent: 0, error: "x", at: now)]) == [
                claimed.id
            ])
        #expect(
            try await store.record([DeliveryOutcome(claim: claimed, result: .sent, partsSent: 1, error: nil, at: now)])
                .isEmpty)
        let row = try #require(try await store.deliveries(noticeID: "n1").first)
        #expect(row.state == .sent)
        #expect(row.sentAt == now)
        #expect(row.leaseOwner == nil)
        // A sent delivery is never claimed again.
        #expect(try await claim(store, owner: "p3", at: now.addingTimeInterval(3600)).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func retriesWaitForTheirTimeAndRateLimitsRefundTheAttempt(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a"]))
        let first = try #require(try await claim(store, owner: "p").first)
        let later = now.addingTimeInterval(60)
        _ = try await store.record([
            DeliveryOutcome(
                claim: first, result: .retry(at: later, refundAttempt: true), partsSent: 0, error: "errcode 45009",
                at: now)
        ])
        #expect(try await claim(store, owner: "p", at: now.addingTimeInterval(59)).isEmpty)
        let second = try #require(try await claim(store, owner: "p", at: later).first)
        #expect(second.attempts == 1)  // the rate-limited attempt was refunded
        #expect(second.claimSeq == 2)
        _ = try await store.record([
            DeliveryOutcome(
                claim: second, result: .retry(at: later, refundAttempt: false), partsSent: 0, error: "errcode -1",
                at: later)
        ])
        let third = try #require(try await claim(store, owner: "p", at: later).first)
        #expect(third.attempts == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func expiredLeasesBecomeInDoubtUnderHold(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b"]))
        let claimed = try await claim(store, owner: "alive", limit: 1)
        // Before the lease ends nothing changes.
        #expect(
            try await store.expireLeases(now: now.addingTimeInterval(44), policy: .hold, isOwnerAlive: { _ in true })
                .isEmpty)
        let expired = try await store.expireLeases(
            now: now.addingTimeInterval(46), policy: .hold, isOwnerAlive: { _ in true })
        #expect(expired == [ExpiredLease(deliveryID: claimed[0].id, owner: "alive", newState: .inDoubt)])
        let rows = try await store.deliveries(noticeID: "n1")
        #expect(rows.first { $0.id == claimed[0].id }?.state == .inDoubt)
        #expect(rows.first { $0.id == claimed[0].id }?.lastError == "outcome unknown: lease expired")
        // in_doubt is final for the dispatcher: it is not claimed again.
        let next = try await claim(store, owner: "other", at: now.addingTimeInterval(50))
        #expect(next.map(\.id) == rows.filter { $0.id != claimed[0].id }.map(\.id))
    }

    @Test(arguments: StoreKind.allCases)
    func aDeadOwnersClaimsAreTakenOverAtOnceAndResentUnderResend(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a"]))
        let claimed = try await claim(store, owner: "crashed")
        let expired = try await store.expireLeases(now: now, policy: .resend, isOwnerAlive: { $0 != "crashed" })
        #expect(expired.map(\.newState) == [.retry])
        let again = try await claim(store, owner: "new", at: now)
        #expect(again.map(\.id) == claimed.map(\.id))
        #expect(again.first?.attempts == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func pendingSummarizesWhatIsLeft(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b", "c"]))
        _ = try await claim(store, owner: "p", limit: 1)
        let status = try await store.pending(noticeID: "n1", now: now)
        #expect(status.dueNow == 2)
        #expect(status.claimed == 1)
        #expect(status.nextLeaseExpiry == now.addingTimeInterval(45))
        #expect(!status.isSettled)
    }

    @Test(arguments: StoreKind.allCases)
    func renewingALeaseIsFenced(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a"]))
        let claimed = try #require(try await claim(store, owner: "p1").first)
        #expect(claimed.leaseUntil == now.addingTimeInterval(45))  // 15 s timeout × 1 part + 30 s margin
        let renewedAt = now.addingTimeInterval(10)
        #expect(try await store.renewLease(claimed, until: now.addingTimeInterval(500), at: renewedAt))
        var stranger = claimed
        stranger.owner = "p2"
        #expect(try await store.renewLease(stranger, until: now.addingTimeInterval(900), at: renewedAt) == false)
        #expect(try await store.deliveries(noticeID: "n1").first?.leaseUntil == now.addingTimeInterval(500))
        // The renewal is logged at the caller's time (the dispatcher's clock), not the machine's.
        guard kind == .sqlite else { return }
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        let logged = try await queue.read { db in
            try Int64.fetchOne(db, sql: "SELECT at FROM events WHERE kind = 'lease' ORDER BY seq DESC LIMIT 1")
        }
        #expect(logged == renewedAt.ledgerMillis)
    }

    @Test(arguments: StoreKind.allCases)
    func releasedClaimsGoBackUnspent(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b"]))
        let claimed = try await claim(store, owner: "p1")
        try await store.release(claimed, at: now)
        let rows = try await store.deliveries(noticeID: "n1")
        #expect(
            rows.allSatisfy {
                $0.state == .planned && $0.attempts == 0 && $0.firstAttemptAt == nil && $0.leaseOwner == nil
            })
        #expect(try await claim(store, owner: "p2").count == 2)
    }
    @Test func everyCommitIsSyncedToDisk() async throws {
        defer { directory.remove() }
        let store = try SQLiteLedgerStore(path: path)
        let settings = try await store.durability()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2)  // FULL: the WAL is synced at every commit, not only at checkpoints
    }

    @Test(arguments: StoreKind.allCases)
    func theOldestDueDeliveryIsClaimedFirstWhetherPlannedOrRetrying(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b"]))
        let first = try #require(try await claim(store, owner: "p", limit: 1).first)
        _ = try await store.record([
            DeliveryOutcome(
                claim: first, result: .retry(at: now.addingTimeInterval(5), refundAttempt: false), partsSent: 0,
                error: "errcode -1", at: now)
        ])
        let targets = ["c", "d"].map {
            PlanTarget(groupID: $0, groupName: "群\($0)", sink: "wecom", notBefore: now.addingTimeInterval(10))
        }
        _ = try await store.plan(
            Plan(
                notice: Notice(id: "n2", title: "T", text: "不点击"), selector: "all", origin: "test",
                targets: targets, now: now))
        // Due at 12 s: b (planned at 0 s), a (retry at 5 s), then c and d (planned for 10 s), in that order.
        let order = [
            try await claim(store, owner: "p", limit: 2, at: now.addingTimeInterval(12)),
            try await claim(store, owner: "p", limit: 2, at: now.addingTimeInterval(12)),
        ]
        let groups = try await store.deliveries(noticeID: "n1") + store.deliveries(noticeID: "n2")
        let byID = Dictionary(uniqueKeysWithValues: groups.map { ($0.id, $0.groupID) })
        #expect(order.map { Set($0.map { byID[$0.id]! }) } == [["a", "b"], ["c", "d"]])
    }
    @Test(arguments: StoreKind.allCases)
    func settleRecordsOutcomesAndClaimsTheNextInOneTransaction(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b", "c", "d"]))
        let first = try await claim(store, owner: "p", limit: 2)
        var stranger = first[1]
        stranger.owner = "someone else"
        let before = try await store.head()
        let settlement = try await store.settle(
            [
                DeliveryOutcome(claim: first[0], result: .sent, partsSent: 1, error: nil, at: now),
                DeliveryOutcome(claim: stranger, result: .sent, partsSent: 1, error: nil, at: now),
            ],
            claiming: ClaimRequest(
                owner: "p", limit: 3, noticeID: "n1", now: now, timeout: .seconds(15), leaseMargin: .seconds(30))
        )
        #expect(settlement.lost == [stranger.id])  // fenced: not this owner's claim
        #expect(Set(settlement.claimed.map(\.groupID)) == ["c", "d"])  // b is still claimed by p
        let rows = Dictionary(uniqueKeysWithValues: try await store.deliveries(noticeID: "n1").map { ($0.groupID, $0) })
        #expect(rows["a"]?.state == .sent)
        #expect(rows["b"]?.state == .claimed)
        #expect(rows["c"]?.state == .claimed && rows["d"]?.state == .claimed)
        // One event for the outcomes and one for the claims, and the log still replays to the tables.
        #expect(try await store.head().seq == before.seq + 2)
        guard case .ok = try await store.verify(checkpoint: before) else {
            Issue.record("verify failed after settle")
            return
        }
        // Both log only the columns they set, with the key: never the group's name or other unchanged columns.
        guard kind == .sqlite else { return }
        let payloads = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(
                db, sql: "SELECT payload FROM events WHERE seq > ? ORDER BY seq", arguments: [before.seq])
        }
        #expect(payloads.count == 2)
        for payload in payloads {
            #expect(payload.hasPrefix(#"[{"set":{"attempts":1,"#), "\(payload)")
            #expect(!payload.contains("group_name") && !payload.contains("notice_id"), "\(payload)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anOutcomeIsFencedOnItsAttemptAndLoggedAsItIsStored(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b"]))
        let claims = try await claim(store, owner: "p", limit: 2)
        var stale = claims[1]
        stale.attempts += 1  // right owner and sequence, but not the attempt the ledger holds
        let lost = try await store.record([
            // Text is read back up to its first NUL: what is logged must be what will be read.
            DeliveryOutcome(claim: claims[0], result: .dead, partsSent: 0, error: "bad\u{0}tail", at: now),
            DeliveryOutcome(claim: stale, result: .sent, partsSent: 1, error: nil, at: now),
        ])
        #expect(lost == [stale.id])
        let rows = Dictionary(uniqueKeysWithValues: try await store.deliveries(noticeID: "n1").map { ($0.groupID, $0) })
        #expect(rows["a"]?.state == .dead && rows["a"]?.lastError == "bad")
        #expect(rows["b"]?.state == .claimed)
        guard case .ok = try await store.verify(checkpoint: nil) else {
            Issue.record("verify failed after an outcome with a NUL in its error")
            return
        }
    }
    @Test(arguments: StoreKind.allCases)
    func anOutcomeGoesToItsClaimsRowOnlyAndAHandBackToo(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan(["a", "b", "c"]))
        let claims = try await claim(store, owner: "p", limit: 3)
        // The claims as they came back find their own rows.
        #expect(
            try await store.record([
                DeliveryOutcome(claim: claims[0], result: .sent, partsSent: 1, error: nil, at: now),
                DeliveryOutcome(claim: claims[1], result: .dead, partsSent: 0, error: "x", at: now),
                DeliveryOutcome(claim: claims[2], result: .deferred(until: now), partsSent: 0, error: nil, at: now),
            ]).isEmpty)
        let states = Dictionary(
            uniqueKeysWithValues: try await store.deliveries(noticeID: "n1").map { ($0.groupID, $0.state) })
        #expect(states == ["a": .sent, "b": .dead, "c": .planned])
        #expect(try await verifyFailure(store) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func aLargePlanIsRecordedWholeAndOnce(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        // More groups than one insert statement carries (200): the chunks must add up, and the event log with them.
        let ids = (0..<450).map { "g\($0)" }
        #expect(try await store.plan(plan(ids)) == PlanResult(created: true, added: 450, total: 450, createdAt: now))
        #expect(try await store.plan(plan(ids + ["extra"])).added == 1)
        #expect(Set(try await store.deliveries(noticeID: "n1").map(\.groupID)) == Set(ids + ["extra"]))
        guard case .ok(let events, _) = try await store.verify(checkpoint: nil) else {
            Issue.record("verify failed after a chunked plan")
            return
        }
        // One event per inserted chunk (200, 200, 50 rows, the notice with the first), then one for the extra
        // group: the chunks that add nothing log nothing.
        #expect(events == 4)
    }

    @Test func theStateCheckIsRebuiltWithoutLosingARowAndStillRefusesUnknownStates() async throws {
        defer { directory.remove() }
        // A ledger of the version before: rows in several states, with gaps in the rowids.
        let pool = try DatabasePool(path: path)
        try SQLiteLedgerStore.migrator.migrate(pool, upTo: "v4-event-log")
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO notices VALUES ('old', '旧', '旧通知', 0, 'h', 'all', 'cli', 0);
                    INSERT INTO deliveries (rowid, id, notice_id, group_id, group_name, sink, state, next_at,
                        planned_at, updated_at, sent_at, part_in_flight, last_error)
                    VALUES (3, 'dlv_a', 'old', 'a', '甲', 'wecom', 'sent', 0, 0, 5, 5, NULL, NULL),
                        (7, 'dlv_b', 'old', 'b', '乙', 'wecom', 'in_doubt', 0, 0, 6, NULL, 2, 'lease expired'),
                        (9, 'dlv_c', 'old', 'c', '丙', 'wecom', 'planned', 0, 0, 0, NULL, NULL, NULL);
                    """
            )
        }
        let everything = "SELECT rowid, * FROM deliveries ORDER BY rowid"
        let before = try await pool.read { db in try Row.fetchAll(db, sql: everything).map { Array($0.databaseValues) }
        }
        try pool.close()

        let upgraded = try SQLiteLedgerStore(path: path)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            // Every row as it was, with the `note` and `task_id` columns later migrations added (NULL: the whole
            // notice, no mass-message task).
            #expect(
                try Row.fetchAll(db, sql: everything).map { Array($0.databaseValues) }
                    == before.map { $0 + [.null, .null] })
            let schema = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'deliveries'") ?? ""
            #expect(!schema.contains(" IN ("))
            #expect(try PlannedRow.matchesSchema(db))
            #expect(
                try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE tbl_name = 'deliveries'"))
                    == [
                        "deliveries", "deliveries_unsent", "deliveries_sent", "deliveries_task", "deliveries_customer",
                        "deliveries_notice", "deliveries_group", "sqlite_autoindex_deliveries_1",
                        "sqlite_autoindex_deliveries_2", "tally_insert", "tally_leave", "tally_enter",
                    ])
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "UPDATE deliveries SET state = 'bogus' WHERE id = 'dlv_c'")
            }
            for state in DeliveryState.allCases {
                try db.execute(sql: "UPDATE deliveries SET state = ? WHERE id = 'dlv_c'", arguments: [state.rawValue])
            }
            try db.execute(sql: "UPDATE deliveries SET state = 'planned' WHERE id = 'dlv_c'")
        }
        try queue.close()
        #expect(try await upgraded.deliveries(noticeID: "old").map(\.id) == ["dlv_a", "dlv_b", "dlv_c"])
    }

    @Test(arguments: StoreKind.allCases)
    func aListingReadPageByPageIsTheWholeListingInOrder(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        let one = Notice(id: "n1", title: "T", text: "不转账")
        _ = try await store.plan(plan(["b", "a", "c"], notice: Notice(id: "n2", title: "T2", text: "不点击")))
        _ = try await store.plan(plan(["g2", "g1"], notice: one))
        _ = try await store.plan(plan(["b", "a", "c"], notice: Notice(id: "n10", title: "T3", text: "不透露")))
        // The first notice again, with more groups: its new rows come after the others' in planning order, and
        // still list with their notice.
        _ = try await store.plan(plan(["g2", "g1", "g9", "g3"], notice: one))
        let whole = try await store.deliveries(matching: DeliveryFilter())
        // Notice ids bytewise ("n10" before "n2"), then planning order.
        #expect(
            whole.map { "\($0.noticeID)/\($0.groupID)" } == [
                "n1/g2", "n1/g1", "n1/g9", "n1/g3", "n10/b", "n10/a", "n10/c", "n2/b", "n2/a", "n2/c",
            ])
        var pages: [[DeliveryRecord]] = []
        var after: String?
        repeat {
            let page = try await store.deliveries(matching: DeliveryFilter(after: after, limit: 3))
            pages.append(page)
            after = page.last?.id
        } while pages.last!.count == 3
        #expect(pages.map(\.count) == [3, 3, 3, 1])
        #expect(pages.flatMap { $0 } == whole)
        // A page of one notice, or of one group, starts after the delivery named, whatever notice that is in.
        #expect(
            try await store.deliveries(matching: DeliveryFilter(noticeID: "n10", after: whole[1].id))
                == Array(whole[4..<7]))
        #expect(
            try await store.deliveries(matching: DeliveryFilter(groupID: "b", after: whole[4].id, limit: 5)).map(\.id)
                == [whole[7].id])
        do {
            _ = try await store.deliveries(matching: DeliveryFilter(after: "no-such-delivery", limit: 3))
            Issue.record("a page after a delivery that doesn't exist was answered")
        } catch let error as LedgerError {
            #expect(error.isInvalid && "\(error)".contains("no-such-delivery"), "\(error)")
        }
    }

    @Test func noLedgerOperationScansTheDeliveriesTable() async throws {
        defer { directory.remove() }
        // Every statement the store runs, as SQLite saw it: from the C library's trace callback, on the pool's
        // threads.
        let seen = Mutex<[String]>([])
        let store = try SQLiteLedgerStore(path: path) { sql in seen.withLock { $0.append(sql) } }
        // Opening migrates, and migrations read whole tables on purpose: only what the operations run counts.
        seen.withLock { $0 = [] }
        _ = try await store.plan(plan((0..<40).map { "g\($0)" }))
        let claims = try await claim(store, owner: "w1", limit: 6)
        let later = now.addingTimeInterval(60)
        let results: [DeliveryOutcome.Result] = [
            .sent, .dead, .inDoubt, .retry(at: later, refundAttempt: false), .deferred(until: later),
        ]
        _ = try await store.settle(
            zip(claims, results).map { DeliveryOutcome(claim: $0, result: $1, partsSent: 0, error: "x", at: now) },
            claiming: ClaimRequest(
                owner: "w1", limit: 3, noticeID: "n1", now: now, timeout: .seconds(15), leaseMargin: .seconds(30)))
        _ = try await store.expireLeases(now: now.addingTimeInterval(3600), policy: .hold) { _ in false }
        _ = try await store.pending(noticeID: nil, now: now)
        _ = try await store.pending(noticeID: "n1", now: now)
        _ = try await store.noticesHad(groupIDs: ["g1", "g2"], among: ["n1", "n2"])
        _ = try await store.stateCounts(noticeID: "n1")
        _ = try await store.deliveries(changedFrom: now, to: later)
        for state in DeliveryState.allCases {
            _ = try await store.deliveries(
                matching: DeliveryFilter(changedFrom: now, changedBefore: later, state: state))
        }
        // Listing every sent delivery ever made, with no time, reads the table: it is nearly all of it.
        for state in StateCondition.unsentStates {
            _ = try await store.deliveries(matching: DeliveryFilter(state: state))
        }
        _ = try await store.deliveries(matching: DeliveryFilter(changedFrom: now, groupID: "g1"))
        // A page of the whole listing, and one group's history: an index finds where they start.
        _ = try await store.deliveries(matching: DeliveryFilter(after: claims[0].id, limit: 5))
        _ = try await store.deliveries(matching: DeliveryFilter(groupID: "g1"))
        _ = try await store.deliveries(matching: DeliveryFilter(changedBefore: later))
        _ = try await store.resolve(noticeID: "n1", groupID: "g2", as: .resend, by: "admin", note: "", at: now)

        // Searches only: the verifier reads whole tables on purpose, and an insert searches nothing.
        let searches = seen.withLock { $0 }.filter { sql in
            let head = sql.drop { $0 == " " || $0 == "\n" }.prefix(6).uppercased()
            return (head == "SELECT" || head == "UPDATE") && sql.contains("deliveries")
        }
        #expect(searches.count >= 10, "the operations above ran their queries")
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        for sql in Set(searches) {
            let plan = try await queue.read { db in
                // The plan doesn't depend on the values: every parameter is left NULL.
                let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + sql)
                statement.setUncheckedArguments([])
                return try Row.fetchAll(statement).map { $0["detail"] as String }
            }
            // "SCAN deliveries" or "SCAN d": a full pass over every delivery ever made, each time.
            let scans = plan.filter { $0.hasPrefix("SCAN deliveries") || $0.hasPrefix("SCAN d") }
            #expect(scans.isEmpty, "\(sql)\n\(plan.joined(separator: "\n"))")
        }
    }

    /// Why `store` fails `verify`, or nil when it passes.
    func verifyFailure(_ store: any LedgerStore) async throws -> String? {
        if case .failed(let why) = try await store.verify(checkpoint: nil) { return why }
        return nil
    }

    @Test func aNewNoticesRowsAreLoggedFromTheirValuesAndReadBackWhenTheTableIsNotTheOneKnown() async throws {
        defer { directory.remove() }
        // Names that need escaping, and one cut at a NUL as SQLite text reads back: the images written from the
        // values must be the rows stored, or verify fails.
        let odd = ["引号\"反斜杠\\", "制表\t换行\n", "空\u{0}后面", "🙂", ""]
        var tricky = plan((0..<250).map { "g\($0)" })
        for (index, name) in odd.enumerated() { tricky.targets[index].groupName = name }
        let store = try SQLiteLedgerStore(path: path)
        #expect(try await store.plan(tricky).added == 250)
        #expect(try await verifyFailure(store) == nil, "a new notice's plan verifies")

        // A table with a column this version doesn't know: the rows are read back instead, and still verify.
        let other = directory.file("altered.sqlite")
        _ = try SQLiteLedgerStore(path: other)
        let queue = try DatabaseQueue(path: other)
        try await queue.write { db in
            try db.execute(sql: "ALTER TABLE deliveries ADD COLUMN extra TEXT DEFAULT 'x'")
            #expect(try !PlannedRow.matchesSchema(db))
        }
        try queue.close()
        let altered = try SQLiteLedgerStore(path: other)
        #expect(try await altered.plan(tricky).added == 250)
        // The column was added outside gridcast, which verify reports; the images read back still match the rows.
        #expect(try await verifyFailure(altered)?.hasPrefix("schema: table deliveries") == true)
        let history = try await DatabaseQueue(path: other).read { db in
            try LedgerVerifier(migrations: SQLiteLedgerStore.migrator.migrations).verifyHistory(db, checkpoint: nil)
        }
        guard case .ok = history else {
            Issue.record("a plan on an altered table should replay to its rows: \(history)")
            return
        }
        let stored = try await altered.deliveries(noticeID: "n1")
        #expect(stored.count == 250)
        #expect(Set(stored.map(\.groupName)).isSuperset(of: ["引号\"反斜杠\\", "🙂", ""]))
        let planned = try await store.deliveries(noticeID: "n1")
        #expect(
            planned.map(\.groupName) == tricky.targets.map { $0.groupName.prefix { $0 != "\u{0}" } }.map(String.init))
    }
}
