import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing

/// The store contract for mass-message tasks (docs/customer-groups.md): batches claimed into tasks before the
/// platform is asked, deliveries moved only by what the platform reports, fenced like every claim.
@Suite("Ledger store contract: customer-group deliveries go out as mass-message tasks")
struct MassTaskLedgerTests {
    let directory: TemporaryDirectory
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    init() throws {
        directory = try TemporaryDirectory("mass-tasks")
    }

    /// Groups `a1…` belong to member zhang, `b1…` to member li, of app `ls`; `x` is no longer configured.
    static let key: @Sendable (String) -> TaskKey? = { group in
        switch group.first {
        case "a": TaskKey(app: "ls", member: "zhang")
        case "b": TaskKey(app: "ls", member: "li")
        default: nil
        }
    }

    func plan(_ id: String, groups: [String], sink: String = Group.customerGroupSink) -> Plan {
        Plan(
            notice: Notice(id: id, title: "T", text: "不转账 \(id)", urgent: false), selector: "all", origin: "test",
            targets: groups.map { PlanTarget(groupID: $0, groupName: "群\($0)", sink: sink) }, now: now)
    }

    func request(at date: Date? = nil, batchSize: Int = 2000, batches: Int = 1) -> TaskClaimRequest {
        var request = TaskClaimRequest(
            sink: Group.customerGroupSink, leaseOwner: "host:1:1", now: date ?? now, lease: .seconds(60),
            batchSize: batchSize, key: Self.key)
        request.batches = batches
        return request
    }

    func stateByGroup(_ store: any LedgerStore, _ notice: String) async throws -> [String: DeliveryState] {
        Dictionary(uniqueKeysWithValues: try await store.deliveries(noticeID: notice).map { ($0.groupID, $0.state) })
    }

    func verifies(_ store: any LedgerStore) async throws -> Bool {
        guard case .ok(_, let head) = try await store.verify(checkpoint: nil) else { return false }
        return try await fastCheck(store) == head
    }

    @Test(arguments: StoreKind.allCases)
    func batchesPerMemberAreClaimedBeforeTheCallAndWebhookClaimsLeaveThem(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan("n", groups: ["a1", "a2", "a3", "b1", "x"]))
        _ = try await store.plan(plan("w", groups: ["hook"], sink: "wecom"))
        // The webhook dispatcher claims only the webhook group, and waits for nothing else.
        let claimed = try await store.claim(
            ClaimRequest(
                owner: "host:1:1", limit: 10, noticeID: nil, now: now, timeout: .seconds(15), leaseMargin: .seconds(60))
        )
        #expect(claimed.map(\.groupID) == ["hook"])
        #expect(try await store.pending(noticeID: "n", now: now).dueNow == 0)

        // One batch per claim unless asked for more: a crash mid-call leaves only that batch to be found again.
        let one = try await store.claimTaskBatches(request(batchSize: 2))
        #expect(one.map { $0.deliveries.map(\.groupID) } == [["a1", "a2"]])
        let claims = try await store.claimTaskBatches(request(batchSize: 2, batches: 10))
        #expect(claims.map(\.key.member) == ["zhang", "li"])
        #expect(claims.map { $0.deliveries.map(\.groupID) } == [["a3"], ["b1"]])
        #expect(Set((one + claims).map(\.handle.id)).count == 3)
        let states = try await stateByGroup(store, "n")
        #expect(states["a1"] == .claimed && states["b1"] == .claimed)
        #expect(states["x"] == .dead, "a group no longer configured is never silently skipped")
        #expect(try await store.claimTaskBatches(request()).isEmpty, "claimed rows are not claimed twice")
        #expect(try await verifies(store))
    }

    @Test(arguments: StoreKind.allCases)
    func onlyWhatThePlatformReportsMovesADelivery(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan("n", groups: ["a1", "a2", "a3", "a4"]))
        let claim = try #require(try await store.claimTaskBatches(request()).first)
        let ids = Dictionary(uniqueKeysWithValues: claim.deliveries.map { ($0.groupID, $0.id) })
        var created = TaskUpdate()
        created.created = ("msg-1", now.addingTimeInterval(3600))
        created.results = [ids["a4"]!: .dead("not the member's customer group (fail_list)")]
        created.nextAt = now.addingTimeInterval(60)
        #expect(try await store.recordTask(claim.handle, created, at: now))
        var states = try await stateByGroup(store, "n")
        #expect(states["a1"] == .awaitingConfirmation && states["a4"] == .dead)
        // Not due before its next call; then claimed for a poll with what still waits.
        #expect(try await store.claimDueTasks(leaseOwner: "host:1:1", now: now, lease: .seconds(60), limit: 5).isEmpty)
        let later = now.addingTimeInterval(120)
        let task = try #require(
            try await store.claimDueTasks(leaseOwner: "host:1:1", now: later, lease: .seconds(60), limit: 5).first)
        #expect(task.state == .open && task.msgid == "msg-1")
        #expect(task.waiting.map(\.groupID) == ["a1", "a2", "a3"])

        let sendTime = now.addingTimeInterval(90)
        var polled = TaskUpdate()
        polled.results = [ids["a1"]!: .sent(at: sendTime), ids["a2"]!: .quotaRefused]
        polled.reminded = true
        polled.nextAt = later.addingTimeInterval(300)
        // A stale claim is fenced out and changes nothing.
        #expect(!(try await store.recordTask(claim.handle, polled, at: later)))
        #expect(try await store.recordTask(task.handle, polled, at: later))
        states = try await stateByGroup(store, "n")
        #expect(states["a1"] == .sent && states["a2"] == .quotaRefused && states["a3"] == .awaitingConfirmation)
        let rows = try await store.deliveries(noticeID: "n")
        #expect(rows.first { $0.groupID == "a1" }?.sentAt == sendTime, "the platform's send time, not ours")

        let deadline = try #require(
            try await store.claimDueTasks(
                leaseOwner: "host:2:2", now: later.addingTimeInterval(600), lease: .seconds(60), limit: 5
            ).first)
        #expect(deadline.reminders == 1)
        var cancelled = TaskUpdate()
        cancelled.cancelled = true
        cancelled.results = [ids["a3"]!: .expired]
        #expect(try await store.recordTask(deadline.handle, cancelled, at: later.addingTimeInterval(600)))
        #expect(try await stateByGroup(store, "n")["a3"] == .expired)
        #expect(
            try await store.claimDueTasks(
                leaseOwner: "host:2:2", now: later.addingTimeInterval(9999), lease: .seconds(60), limit: 5
            ).isEmpty, "a task with nothing waiting is closed")
        #expect(try await verifies(store))
    }

    @Test(arguments: StoreKind.allCases)
    func aCreationInterruptedByACrashIsFoundAgainNotExpiredNorClaimedAgain(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan("n", groups: ["a1", "a2"]))
        let claim = try #require(try await store.claimTaskBatches(request()).first)
        // The process dies before recording the create call's answer. Lease expiry leaves the rows to the task.
        let afterLease = now.addingTimeInterval(120)
        let expired = try await store.expireLeases(now: afterLease, policy: .resend, isOwnerAlive: { _ in false })
        #expect(expired.isEmpty)
        #expect(try await store.claimTaskBatches(request(at: afterLease)).isEmpty)
        // Another process takes the task over to find it again; the dead one's handle is fenced out.
        let task = try #require(
            try await store.claimDueTasks(leaseOwner: "host:2:2", now: afterLease, lease: .seconds(60), limit: 5).first)
        #expect(task.state == .creating && task.msgid == nil)
        #expect(task.waiting.map(\.groupID) == ["a1", "a2"])
        var stale = TaskUpdate()
        stale.created = ("msg-dead", afterLease)
        #expect(!(try await store.recordTask(claim.handle, stale, at: afterLease)))

        // Not found in the platform's list: in doubt, never a second task.
        var lost = TaskUpdate()
        lost.ended = .inDoubt("the create call's answer was lost and the task is not in WeCom's list")
        #expect(try await store.recordTask(task.handle, lost, at: afterLease))
        #expect(try await stateByGroup(store, "n") == ["a1": .inDoubt, "a2": .inDoubt])
        #expect(try await store.claimTaskBatches(request(at: afterLease.addingTimeInterval(600))).isEmpty)
        #expect(try await verifies(store))
    }

    @Test(arguments: StoreKind.allCases)
    func aTaskThePlatformRefusedGoesBackToBeTriedAsANewTask(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        _ = try await store.plan(plan("n", groups: ["a1"]))
        let first = try #require(try await store.claimTaskBatches(request()).first)
        var refused = TaskUpdate()
        let retryAt = now.addingTimeInterval(30)
        refused.ended = .retry(at: retryAt, "errcode -1: system busy")
        #expect(try await store.recordTask(first.handle, refused, at: now))
        #expect(try await stateByGroup(store, "n") == ["a1": .retry])
        #expect(try await store.claimTaskBatches(request(at: now.addingTimeInterval(10))).isEmpty)
        let second = try #require(try await store.claimTaskBatches(request(at: retryAt)).first)
        #expect(second.handle.id != first.handle.id)
        #expect(try await store.deliveries(noticeID: "n").first?.attempts == 2)
        #expect(try await verifies(store))
    }

    @Test(arguments: StoreKind.allCases)
    func aTaskBeingFoundAgainKnowsItsSiblingsTasks(kind: StoreKind) async throws {
        defer { directory.remove() }
        let store = try await kind.open(in: directory)
        // One member's groups split into two batches of one notice: the same text goes out twice.
        _ = try await store.plan(plan("n", groups: ["a1", "a2"]))
        let first = try #require(try await store.claimTaskBatches(request(batchSize: 1)).first)
        var created = TaskUpdate()
        created.created = ("msg-first", now.addingTimeInterval(3600))
        #expect(try await store.recordTask(first.handle, created, at: now))
        _ = try #require(try await store.claimTaskBatches(request(batchSize: 1)).first)
        // The second batch's create answer is lost; found again later, it must not take the first batch's task.
        let later = now.addingTimeInterval(120)
        let tasks = try await store.claimDueTasks(leaseOwner: "host:2:2", now: later, lease: .seconds(60), limit: 5)
        let interrupted = try #require(tasks.first { $0.state == .creating })
        #expect(interrupted.siblingMessageIDs == ["msg-first"])
        #expect(interrupted.waiting.map(\.groupID) == ["a2"])
    }
}
