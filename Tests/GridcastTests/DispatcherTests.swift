import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Synchronization
import Testing
import Transport

@testable import Fanout

@Suite("Dispatcher: exactly once, through the emulator and a real ledger")
struct DispatcherTests {
    /// One run's parts: emulator, ledger, transport, config.
    struct Rig {
        let server: EmulatorServer
        let store: any LedgerStore
        let transport: CurlTransport
        let config: GridcastConfig
        let directory: TemporaryDirectory

        func dispatcher(owner: String = LeaseOwner.current.description) -> Dispatcher {
            Dispatcher(
                store: store, transport: transport, sinks: .standard, config: config,
                liveness: FixedLiveness(owner: owner))
        }

        /// Plans `notice` for every group and drains it.
        @discardableResult
        func send(
            _ notice: Notice = Notice(id: "n1", title: "每日提醒", text: "不回拨、不轻信、不点击、不透露、不转账")
        ) async throws
            -> [DeliveryRecord]
        {
            let plan = try Planner(config: config, sinks: .standard).plan(
                notice, to: try Selector(parsing: "all"), origin: "test", now: Date()
            )
            _ = try await store.plan(plan)
            _ = try await dispatcher().drain(noticeID: notice.id)
            return try await store.deliveries(noticeID: notice.id)
        }

        func close() async throws {
            await transport.shutdown()
            try await server.stop()
            directory.remove()
        }
    }

    func rig(
        _ kind: StoreKind,
        wecom: Int = 0,
        generic: [String] = [],
        faults: [String: [FaultPlan.Fault]] = [:],
        inDoubt: InDoubtPolicy = .hold,
        timeout: Duration = .seconds(5),
        concurrency: Int = 16
    ) async throws -> Rig {
        let directory = try TemporaryDirectory("dispatch")
        let placeholder = TestGroups.wecom(wecom, port: 0) + generic.map { TestGroups.generic($0, port: 0) }
        let server = try await EmulatorServer.start(groups: placeholder, faults: FaultPlan(faults: faults))
        let groups =
            TestGroups.wecom(wecom, port: server.port) + generic.map { TestGroups.generic($0, port: server.port) }
        let config = TestGroups.config(
            groups, ledger: directory.file("ledger.sqlite"), concurrency: concurrency, timeout: timeout,
            inDoubt: inDoubt
        )
        return Rig(
            server: server, store: try await kind.open(in: directory), transport: CurlTransport(),
            config: config, directory: directory
        )
    }

    @Test(arguments: StoreKind.allCases)
    func twoHundredGroupsEachGetTheNoticeExactlyOnce(kind: StoreKind) async throws {
        let rig = try await rig(
            kind, wecom: 190, generic: ["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10"])
        let rows = try await rig.send()
        #expect(rows.count == 200)
        #expect(rows.allSatisfy { $0.state == .sent && $0.attempts == 1 && $0.sentAt != nil })
        let received = try await rig.server.received()
        #expect(received.count == 200)
        #expect(Set(received.map(\.group)).count == 200)
        // The generic receivers saw the stable delivery id as webhook-id.
        let hooks = received.filter { $0.sink == "generic" }
        #expect(Set(hooks.compactMap(\.webhookID)) == Set(rows.filter { $0.sink == "generic" }.map(\.id)))
        // Draining again sends nothing.
        let again = try await rig.dispatcher().drain(noticeID: "n1")
        #expect(again == DispatchProgress())
        #expect(try await rig.server.requestCount() == 200)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func busyAnswersAreRetriedWithBackoffUntilSent(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 2, faults: ["g0000": [.busy, .busy]])
        let rows = try await rig.send()
        let row = try #require(rows.first { $0.groupID == "g0000" })
        #expect(row.state == .sent)
        #expect(row.attempts == 3)
        #expect(try await rig.server.received().filter { $0.group == "g0000" }.count == 1)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aPermanentAnswerIsDeadAfterOneRequest(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 2, faults: ["g0001": [.permanent, .permanent]])
        let rows = try await rig.send()
        let row = try #require(rows.first { $0.groupID == "g0001" })
        #expect(row.state == .dead)
        #expect(row.attempts == 1)
        #expect(row.lastError == "errcode 93000: invalid webhook url")
        #expect(try await rig.server.requestCount() == 2)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func attemptsRunOutIntoDead(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 1, faults: ["g0000": Array(repeating: .status(503), count: 10)])
        let rows = try await rig.send()
        #expect(rows.first?.state == .dead)
        #expect(rows.first?.attempts == 4)
        #expect(rows.first?.lastError == "gave up after 4 attempts: HTTP 503")
        #expect(try await rig.server.requestCount() == 4)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func rateLimitAnswersDoNotSpendAttempts(kind: StoreKind) async throws {
        let rig = try await rig(
            kind, wecom: 1, faults: ["g0000": Array(repeating: .rateLimit(retryAfter: nil), count: 6)])
        let rows = try await rig.send()
        // Six "too fast" answers with attempts: 4 still end sent, and only the successful request counts.
        #expect(rows.first?.state == .sent)
        #expect(rows.first?.attempts == 1)
        #expect(try await rig.server.requestCount() == 7)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func anUnknownOutcomeIsHeldInDoubtNeverResent(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 2, faults: ["g0000": [.reset]])
        let rows = try await rig.send()
        let row = try #require(rows.first { $0.groupID == "g0000" })
        #expect(row.state == .inDoubt)
        #expect(row.lastError?.hasPrefix("outcome unknown (curl 52") == true)
        #expect(try await rig.server.requestCount() == 2)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aTimeoutUnderResendPolicyIsSentAgain(kind: StoreKind) async throws {
        // 1 s, not less: with every test target's suites running at once on 2 cores, an ordinary loopback answer
        // can take a few hundred milliseconds, and the resent request must not time out as well.
        let rig = try await rig(kind, wecom: 1, faults: ["g0000": [.timeout]], inDoubt: .resend, timeout: .seconds(1))
        let rows = try await rig.send()
        #expect(rows.first?.state == .sent)
        #expect(rows.first?.attempts == 2)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func anUnreachablePlatformIsRetriedThenDead(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 1)
        var config = rig.config
        config.groups[0].url = "http://127.0.0.1:1/cgi-bin/webhook/send?key=nobody-listens"
        let dispatcher = Dispatcher(store: rig.store, transport: rig.transport, sinks: .standard, config: config)
        let plan = try Planner(config: config, sinks: .standard).plan(
            Notice(id: "n1", title: "", text: "x"), to: try Selector(parsing: "all"), origin: "test", now: Date()
        )
        _ = try await rig.store.plan(plan)
        _ = try await dispatcher.drain(noticeID: "n1")
        let row = try #require(try await rig.store.deliveries(noticeID: "n1").first)
        #expect(row.state == .dead)
        #expect(row.attempts == 4)
        #expect(row.lastError == "gave up after 4 attempts: not sent (curl 7: Couldn't connect to server)")
        try await rig.close()
    }

    /// A slot's next claim waits, committed, right behind the requests in flight once answers come back during
    /// commits: never more than `concurrency` requests and as many queued claims; a stop hands the queued ones
    /// back unsent.
    @Test(arguments: StoreKind.allCases)
    func claimsQueueBehindTheRequestsInFlightAndGoBackOnStop(kind: StoreKind) async throws {
        let concurrency = 2
        // Six groups answer at once, so answers arrive while claims commit; the other six hang until the client's
        // timeout, so the window stays still while it is looked at.
        let faults = Dictionary(
            uniqueKeysWithValues: (6..<12).map { (String(format: "g%04d", $0), [FaultPlan.Fault.timeout]) })
        let rig = try await rig(kind, wecom: 12, faults: faults, timeout: .seconds(1), concurrency: concurrency)
        let plan = try Planner(config: rig.config, sinks: .standard).plan(
            Notice(id: "n1", title: "", text: "x"), to: try Selector(parsing: "all"), origin: "test", now: Date()
        )
        _ = try await rig.store.plan(plan)
        let stop = Atomic<Bool>(false)
        async let drained = rig.dispatcher().drain(noticeID: "n1", stopRequested: { stop.load(ordering: .relaxed) })
        func claimed() async throws -> Int {
            try await rig.store.deliveries(noticeID: "n1").filter { $0.state == .claimed }.count
        }
        try await waitUntil {
            let requests = try await rig.server.requestCount()
            let held = try await claimed()
            return requests == 6 + concurrency && held > concurrency
        }
        #expect(try await claimed() <= 2 * concurrency, "in flight plus queued, no more")
        #expect(try await rig.server.requestCount() == 6 + concurrency, "a queued claim waits for a free slot")
        stop.store(true, ordering: .relaxed)
        let progress = try await drained
        #expect(progress.sent == 6)
        #expect(progress.inDoubt == concurrency, "the requests in flight timed out: their outcome is unknown")
        let after = try await rig.store.deliveries(noticeID: "n1")
        #expect(!after.contains { $0.state == .claimed }, "a stop leaves nothing claimed")
        #expect(after.filter { $0.state == .planned }.count == 6 - concurrency, "the queued went back unsent")
        #expect(after.filter { $0.state == .planned }.allSatisfy { $0.attempts == 0 })
        #expect(try await rig.server.requestCount() == 6 + concurrency)
        try await rig.close()
    }

    @Test(arguments: [
        // (finished, interval ms, commit ms, limit) → depth
        (0, 100, 2, 64, 0), (64, 100, 2, 64, 3), (25, 2, 2, 64, 50), (20, 4, 2, 64, 20), (200, 2, 2, 64, 64),
        (1, 0, 2, 64, 0),
    ])
    func theQueueHoldsWhatFinishesDuringTwoCommits(case: (Int, Int, Int, Int, Int)) {
        let (finished, interval, commit, limit, depth) = `case`
        #expect(
            Dispatcher.queueDepth(
                finished: finished, in: .milliseconds(interval), commit: .milliseconds(commit), limit: limit) == depth)
    }

    @Test(arguments: StoreKind.allCases)
    func anotherDispatchersLiveClaimIsWaitedForNotStolen(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 3)
        let plan = try Planner(config: rig.config, sinks: .standard).plan(
            Notice(id: "n1", title: "", text: "x"), to: try Selector(parsing: "all"), origin: "test", now: Date()
        )
        _ = try await rig.store.plan(plan)
        // A live process holds one claim; the run sends the rest and waits for that one to be recorded.
        let held = try #require(
            try await rig.store.claim(
                ClaimRequest(owner: "elsewhere/1/1/1", limit: 1, noticeID: "n1", now: Date(), timeout: .seconds(5))
            ).first
        )
        async let drained = rig.dispatcher().drain(noticeID: "n1")
        try await waitUntil { try await rig.server.requestCount() == 2 }
        _ = try await rig.store.record([
            DeliveryOutcome(claim: held, result: .sent, partsSent: 1, error: nil, at: Date())
        ])
        let progress = try await drained
        #expect(progress.sent == 2)
        #expect(try await rig.store.deliveries(noticeID: "n1").allSatisfy { $0.state == .sent })
        #expect(try await rig.server.requestCount() == 2)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func errorsRecordedInTheLedgerNeverHoldTheBotKey(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 1, faults: ["g0000": [.permanent]])
        _ = try await rig.send()
        let row = try #require(try await rig.store.deliveries(noticeID: "n1").first)
        #expect(row.state == .dead)
        #expect(row.lastError?.contains("key-g0000") == false)
        let bytes = try await kind.rawContents(in: rig.directory)
        #expect(!bytes.isEmpty)
        #expect(bytes.range(of: Data("key-g0000".utf8)) == nil)
        try await rig.close()
    }

    /// About 6,000 bytes of Chinese text: three WeCom text parts.
    static let longText = (1...36).map { "第\($0)段：冒充公检法的骗子会说你的账户涉嫌洗钱，要求把钱转入“安全账户”。公检法机关不会这样办案。" }
        .joined(separator: "\n\n")

    func planLong(_ rig: Rig) async throws -> Notice {
        let notice = Notice(id: "long", title: "长文提醒", text: Self.longText)
        let plan = try Planner(config: rig.config, sinks: .standard).plan(
            notice, to: try Selector(parsing: "all"), origin: "test", now: Date()
        )
        #expect(plan.targets.allSatisfy { $0.parts == 3 })
        _ = try await rig.store.plan(plan)
        return notice
    }

    @Test(arguments: StoreKind.allCases)
    func aLongNoticeArrivesInOrderedPartsWithinTheLimit(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 2)
        let notice = try await planLong(rig)
        _ = try await rig.dispatcher().drain(noticeID: notice.id)
        let rows = try await rig.store.deliveries(noticeID: notice.id)
        #expect(rows.allSatisfy { $0.state == .sent && $0.partsSent == 3 && $0.partsTotal == 3 })
        let received = try await rig.server.received().filter { $0.group == "g0000" }
        #expect(received.map { String($0.text.prefix(6)) } == ["(1/3) ", "(2/3) ", "(3/3) "])
        #expect(received.allSatisfy { $0.text.utf8.count <= 2048 })
        let body = received.map { String($0.text.dropFirst(6)) }.joined()
        #expect(body == MessageParts.body(of: notice))
        try await rig.close()
    }

    /// Claims the long notice as a process called "gone" and confirms its first part.
    func claimAndConfirmPartOne(_ rig: Rig, _ notice: Notice) async throws -> ClaimedDelivery {
        let claim = try #require(
            try await rig.store.claim(
                ClaimRequest(owner: "gone", limit: 1, noticeID: notice.id, now: Date(), timeout: .seconds(5))
            ).first
        )
        #expect(try await rig.store.recordProgress(claim, partsSent: 1, at: Date()))
        return claim
    }

    /// The next run's dispatcher, which knows "gone" is dead.
    func afterTheCrash(_ rig: Rig) -> Dispatcher {
        Dispatcher(
            store: rig.store, transport: rig.transport, sinks: .standard, config: rig.config,
            liveness: FixedLiveness(dead: ["gone"])
        )
    }

    @Test(arguments: StoreKind.allCases)
    func aClaimThatEndedBetweenPartsResumesAtTheFirstUnsentPart(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 1)
        let notice = try await planLong(rig)
        // A process claimed it, confirmed part 1, and died before marking part 2.
        _ = try await claimAndConfirmPartOne(rig, notice)
        _ = try await afterTheCrash(rig).drain(noticeID: notice.id)
        let row = try #require(try await rig.store.deliveries(noticeID: notice.id).first)
        #expect(row.state == .sent)
        #expect(row.partsSent == 3)
        let texts = try await rig.server.received().map { String($0.text.prefix(6)) }
        #expect(texts == ["(2/3) ", "(3/3) "], "part 1 is not repeated")
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aClaimThatDiedWithAPartInFlightIsInDoubt(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 1)
        let notice = try await planLong(rig)
        // ... and this one died after marking part 2, which may be on the wire.
        let claim = try await claimAndConfirmPartOne(rig, notice)
        #expect(try await rig.store.markPartInFlight(claim, part: 2, of: 3, at: Date()))
        _ = try await afterTheCrash(rig).drain(noticeID: notice.id)
        let row = try #require(try await rig.store.deliveries(noticeID: notice.id).first)
        #expect(row.state == .inDoubt)
        #expect(row.partsSent == 1)
        #expect(try await rig.server.requestCount() == 0)
        try await rig.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aNoticeNeedingTooManyPartsIsRefusedWhenPlanned(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 1)
        let huge = Notice(id: "huge", title: "", text: String(repeating: Self.longText + "\n\n", count: 3))
        let all = try Selector(parsing: "all")
        let failure = try #require(throws: Planner.Failure.self) {
            try Planner(config: rig.config, sinks: .standard).plan(huge, to: all, origin: "test", now: Date())
        }
        #expect(
            failure.message.hasPrefix(
                "notice 'huge' needs 8 parts for group g0000 (wecom allows 2048 bytes per message); dispatch.max_parts is 5"
            ))
        try await rig.close()
    }
    /// About 2,600 bytes: two WeCom text parts, one markdown message.
    func planTwoParts(_ rig: Rig) async throws -> Notice {
        let notice = Notice(
            id: "two", title: "提醒", text: Array(repeating: "冒充公检法的骗子会说你的账户涉嫌洗钱。", count: 45).joined(separator: "\n"))
        let plan = try Planner(config: rig.config, sinks: .standard).plan(
            notice, to: try Selector(parsing: "all"), origin: "test", now: Date())
        #expect(plan.targets.map(\.parts) == [2])
        _ = try await rig.store.plan(plan)
        return notice
    }

    /// Planned as two parts, then a reload (the group now posts markdown, with twice the room) makes it one: the
    /// delivery goes out as one, its new count stored with the request's mark, so a crash during that request is in
    /// doubt, never resumed or resent as if it had ended between parts.
    @Test(arguments: StoreKind.allCases, [InDoubtPolicy.hold, .resend])
    func aDeliveryWhosePartCountChangedIsMarkedSoACrashMidRequestIsNotResent(
        kind: StoreKind, policy: InDoubtPolicy
    ) async throws {
        let rig = try await rig(kind, wecom: 1, faults: ["g0000": [.timeout]], inDoubt: policy, timeout: .seconds(2))
        let notice = try await planTwoParts(rig)
        var reloaded = rig.config
        reloaded.groups[0].format = .markdown
        let parts = MessageParts.parts(of: notice, for: reloaded.groups[0], on: WeComSink()).count
        #expect(parts == 1)
        let dispatcher = Dispatcher(
            store: rig.store, transport: rig.transport, sinks: .standard, config: reloaded,
            liveness: FixedLiveness(owner: "first/1/1/1"))
        async let drained = dispatcher.drain(noticeID: notice.id)
        // Part 1 is on the wire (the receiver read it and never answers) when the process "dies": the next one
        // looks at the claim.
        try await waitUntil { try await rig.server.requestCount() == 1 }
        let expired = try await rig.store.expireLeases(now: Date(), policy: policy) { $0 != "first/1/1/1" }
        #expect(expired.map(\.newState) == [policy == .hold ? .inDoubt : .retry])
        let row = try #require(try await rig.store.deliveries(noticeID: notice.id).first)
        #expect(row.partsTotal == 1, "the count it is sent with is the one stored")
        #expect(row.partsSent == 0)
        if policy == .hold {
            #expect(row.state == .inDoubt, "a request was in flight: its outcome is unknown")
        }
        _ = try await drained
        try await rig.close()
    }

    /// The same reload without a crash: sent as one message and recorded as one of one.
    @Test(arguments: StoreKind.allCases)
    func aDeliveryWhosePartCountChangedBeforeItsFirstPartIsSentWithTheNewCount(kind: StoreKind) async throws {
        let rig = try await rig(kind, wecom: 1)
        let notice = try await planTwoParts(rig)
        var reloaded = rig.config
        reloaded.groups[0].format = .markdown
        _ = try await Dispatcher(store: rig.store, transport: rig.transport, sinks: .standard, config: reloaded)
            .drain(noticeID: notice.id)
        let row = try #require(try await rig.store.deliveries(noticeID: notice.id).first)
        #expect(row.state == .sent)
        #expect(row.partsSent == 1 && row.partsTotal == 1)
        let received = try await rig.server.received()
        #expect(received.count == 1)
        #expect(received.allSatisfy { !$0.text.hasPrefix("(1/") }, "one message carries no part mark")
        try await rig.close()
    }

    /// A receiver that deduplicates on the delivery id (Standard Webhooks) gets an unknown outcome resent, also
    /// under `in_doubt: hold`; a chat platform's stays in doubt.
    @Test(arguments: StoreKind.allCases)
    func anUnknownOutcomeIsResentOnlyToAReceiverThatDeduplicates(kind: StoreKind) async throws {
        let rig = try await rig(
            kind,
            wecom: 1, generic: ["h1"], faults: ["h1": [.status(502)], "g0000": [.status(502)]], inDoubt: .hold)
        let rows = try await rig.send()
        let hook = try #require(rows.first { $0.groupID == "h1" })
        #expect(hook.state == .sent)
        #expect(hook.attempts == 2)
        let chat = try #require(rows.first { $0.groupID == "g0000" })
        #expect(chat.state == .inDoubt)
        #expect(chat.lastError == "HTTP 502")
        #expect(try await rig.server.requestCount(group: "g0000") == 1)
        try await rig.close()
    }
    /// Plans `count` one-line notices `n0…` for every group.
    func planNotices(_ rig: Rig, _ count: Int) async throws {
        for index in 0..<count {
            let plan = try Planner(config: rig.config, sinks: .standard).plan(
                Notice(id: "n\(index)", title: "", text: "第\(index)条：不转账"), to: try Selector(parsing: "all"),
                origin: "test", now: Date())
            _ = try await rig.store.plan(plan)
        }
    }

    /// A rig whose one group's bot allows one message per `period`.
    func pacedRig(_ kind: StoreKind, period: Duration) async throws -> Rig {
        let fast = try await rig(kind, wecom: 1)
        var config = fast.config
        config.groups[0].rate = RateLimit([RateLimit.Window(count: 1, period: period)])
        return Rig(
            server: fast.server, store: fast.store, transport: fast.transport, config: config,
            directory: fast.directory)
    }

    /// A bot allowing one message an hour: the second notice's claim does not sit out the hour inside a lease of a
    /// minute (where a restart would call it in doubt though nothing was sent); it goes back to the ledger, due
    /// when the bot is free.
    @Test(.timeLimit(.minutes(1)), arguments: StoreKind.allCases)
    func aClaimWaitsForItsBotOnlyAsLongAsItsLeaseAllows(kind: StoreKind) async throws {
        let rig = try await pacedRig(kind, period: .seconds(3600))
        try await planNotices(rig, 2)
        let stop = Atomic<Bool>(false)
        async let drained = rig.dispatcher().drain(noticeID: nil, stopRequested: { stop.load(ordering: .relaxed) })
        try await waitUntil {
            let rows = try await rig.store.deliveries(matching: DeliveryFilter())
            let waiting = rows.first {
                $0.state == .planned && ($0.nextAt ?? .distantPast) > Date().addingTimeInterval(3000)
            }
            return rows.contains { $0.state == .sent } && waiting != nil
        }
        stop.store(true, ordering: .relaxed)
        _ = try await drained
        let rows = try await rig.store.deliveries(matching: DeliveryFilter())
        #expect(rows.filter { $0.state == .planned }.allSatisfy { $0.attempts == 0 }, "handed back, attempt refunded")
        #expect(try await rig.server.requestCount() == 1)
        try await rig.close()
    }

    /// A bot allowing one message every 30 s: the second notice's claim waits for it inside its lease, and a stop
    /// hands it back at once, unsent, instead of waiting out the bot.
    @Test(.timeLimit(.minutes(1)), arguments: StoreKind.allCases)
    func aStopHandsBackAClaimParkedBehindItsBotAtOnce(kind: StoreKind) async throws {
        let rig = try await pacedRig(kind, period: .seconds(30))
        try await planNotices(rig, 2)
        let stop = Atomic<Bool>(false)
        async let drained = rig.dispatcher().drain(noticeID: nil, stopRequested: { stop.load(ordering: .relaxed) })
        try await waitUntil {
            let rows = try await rig.store.deliveries(matching: DeliveryFilter())
            return rows.contains { $0.state == .sent } && rows.contains { $0.state == .claimed }
        }
        stop.store(true, ordering: .relaxed)
        _ = try await drained
        let rows = try await rig.store.deliveries(matching: DeliveryFilter())
        #expect(rows.map(\.state).sorted { $0.rawValue < $1.rawValue } == [.planned, .sent])
        #expect(rows.first { $0.state == .planned }?.attempts == 0)
        #expect(try await rig.server.requestCount() == 1, "the parked one was not sent")
        try await rig.close()
    }
}
