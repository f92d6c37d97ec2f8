import Foundation
import GridcastCore
import Ledger
import Logging
import Sinks
import Transport

/// Drains due deliveries: claim (committed) → render → send → classify → record (fenced, group-committed).
///
/// At most `dispatch.concurrency` requests are in flight, and a few committed claims wait right behind them for a
/// free slot — as many as finish during two commits, never more than the concurrency — so a crash leaves in doubt
/// only what was on the wire or about to be: at most twice the concurrency, and against real platforms, whose
/// answers take far longer than a commit, hardly more than the concurrency. No transaction is held across HTTP.
public struct Dispatcher: Sendable {
    let store: any LedgerStore
    let transport: any Transport
    let sinks: SinkRegistry
    let config: GridcastConfig
    let owner: String
    let clock: any DispatchClock
    let logger: Logger
    let isOwnerAlive: @Sendable (String) -> Bool
    let pacer = BotPacer()

    /// Creates a dispatcher.
    public init(
        store: any LedgerStore,
        transport: any Transport,
        sinks: SinkRegistry,
        config: GridcastConfig,
        owner: String = LeaseOwner.current.description,
        clock: any DispatchClock = SystemDispatchClock(),
        logger: Logger = Logger(label: "gridcast.dispatch"),
        isOwnerAlive: @escaping @Sendable (String) -> Bool = LeaseOwner.isAlive
    ) {
        self.store = store
        self.transport = transport
        self.sinks = sinks
        self.config = config
        self.owner = owner
        self.clock = clock
        self.logger = logger
        self.isOwnerAlive = isOwnerAlive
    }

    /// Sends every due delivery of `noticeID` (or of every notice) until none is planned, retrying or claimed;
    /// waits for retries and for other processes' claims. `progress` is called after each recorded batch.
    /// With `keepRunning` (the daemon) it never runs out of work: it polls the ledger for new plans until stopped.
    ///
    /// When `stopRequested` turns true the dispatcher claims nothing more, lets the requests in flight finish and
    /// records them, and returns: a clean stop leaves nothing in doubt.
    ///
    /// Finished sends are recorded together with the claims that refill the queue, in one transaction: while it
    /// commits, the next finished sends gather for the one after (group commit), and the queued claims keep every
    /// slot busy. A claim is durable before its request starts, and the ledger never holds more claims of this
    /// dispatcher than twice `dispatch.concurrency` (in flight, queued, or finished and not yet recorded).
    public func drain(
        noticeID: String?,
        keepRunning: Bool = false,
        stopRequested: @escaping @Sendable () -> Bool = { false },
        progress: (@Sendable (DispatchProgress) -> Void)? = nil
    ) async throws -> DispatchProgress {
        let concurrency = config.dispatch.concurrency
        var tally = DispatchProgress()
        var notices: [String: StoredNotice] = [:]
        try await expireLeases()
        try await withThrowingTaskGroup(of: DrainEvent.self) { group in
            var running = 0
            // Committed claims waiting for a free slot, oldest first; only ever non-empty while every slot is busy.
            var queued: [ClaimedDelivery] = []
            // How many to queue: as many requests as finish, at the recent rate, in the time two commits take, so a
            // slot's next request need not wait for one. Near zero when answers take much longer than a commit.
            var ahead = 0
            var finishedSinceSettle = 0
            var lastSettle = ContinuousClock.now
            var unrecorded: [DeliveryOutcome] = []
            var committing = false
            // False once a claim came back short: no claim-only transaction until the ledger is looked at again.
            var mayClaim = true
            func start(_ claim: ClaimedDelivery) {
                let stored = notices[claim.noticeID]
                running += 1
                group.addTask { .finished(claim, await self.deliver(claim, notice: stored)) }
            }
            while true {
                let stopping = stopRequested()
                if stopping && !queued.isEmpty {
                    // Not started: hand them back rather than leave them claimed.
                    let unsent = queued
                    queued = []
                    try await store.release(unsent, at: clock.now())
                }
                if !committing {
                    // Claimed rows of this dispatcher after the commit = `running` + `queued`: finished ones are
                    // recorded in it.
                    let free = stopping ? 0 : concurrency + ahead - running - queued.count
                    // A claim-only transaction waits for a quarter of the slots, so each covers many deliveries.
                    let claimOnly = mayClaim && free > 0 && (free >= max(1, concurrency / 4) || running == 0)
                    if !unrecorded.isEmpty || claimOnly {
                        let batch = unrecorded
                        unrecorded = []
                        committing = true
                        let request =
                            free > 0
                            ? ClaimRequest(
                                owner: owner, limit: free, noticeID: noticeID, now: clock.now(),
                                timeout: config.dispatch.timeout, leaseMargin: config.dispatch.leaseMargin)
                            : nil
                        group.addTask {
                            let started = ContinuousClock.now
                            let settlement = try await self.store.settle(batch, claiming: request)
                            let took = ContinuousClock.now - started
                            FanoutMetrics.commit("settle", duration: took)
                            return .settled(settlement, recorded: batch, asked: request?.limit ?? 0, took: took)
                        }
                    }
                }
                FanoutMetrics.window(inFlight: running, waiting: queued.count + unrecorded.count)
                if running > 0 || committing {
                    switch try await group.next() {
                    case .finished(let claim, let outcome)?:
                        running -= 1
                        finishedSinceSettle += 1
                        // Under a stop the queue goes back to the ledger instead (at the top of the loop).
                        if !queued.isEmpty && !stopRequested() { start(queued.removeFirst()) }
                        if let outcome {
                            unrecorded.append(outcome)
                        } else {
                            logger.warning("lost lease before sending: skipped", metadata: ["delivery": "\(claim.id)"])
                        }
                    case .settled(let settlement, let recorded, let asked, let took)?:
                        committing = false
                        let lost = Set(settlement.lost)
                        for outcome in recorded {
                            if lost.contains(outcome.claim.id) {
                                logger.warning(
                                    "lost lease: outcome not recorded",
                                    metadata: ["delivery": "\(outcome.claim.id)", "group": "\(outcome.claim.groupID)"]
                                )
                            } else {
                                tally.count(outcome.result)
                            }
                        }
                        if !recorded.isEmpty { progress?(tally) }
                        let now = ContinuousClock.now
                        ahead = Self.queueDepth(
                            finished: finishedSinceSettle, in: now - lastSettle, commit: took, limit: concurrency)
                        finishedSinceSettle = 0
                        lastSettle = now
                        if asked > 0 { mayClaim = settlement.claimed.count == asked }
                        let claimed = settlement.claimed
                        if claimed.isEmpty { continue }
                        if stopRequested() {
                            // Claimed just as the stop came: hand them back unsent rather than leave them in flight.
                            try await store.release(claimed, at: clock.now())
                            continue
                        }
                        let missing = Set(claimed.map(\.noticeID)).subtracting(notices.keys)
                        if !missing.isEmpty {
                            notices.merge(try await store.notices(ids: Array(missing))) { old, _ in old }
                        }
                        for claim in claimed {
                            if running < concurrency { start(claim) } else { queued.append(claim) }
                        }
                    case nil:
                        break
                    }
                    continue
                }
                if stopping { break }
                // Nothing in flight, nothing claimable now: done, or wait for retries and others' claims.
                let status = try await store.pending(noticeID: noticeID, now: clock.now())
                mayClaim = true
                if status.dueNow > 0 { continue }
                if status.isSettled && !keepRunning { break }
                let expired = try await expireLeases()
                if !expired.isEmpty { continue }
                // Poll: plans may come from the scheduler, the API or another process on this ledger.
                var wake = clock.now().addingTimeInterval(keepRunning ? 0.25 : 1)
                if let due = status.nextDueAt { wake = min(wake, due) }
                if let expiry = status.nextLeaseExpiry { wake = min(wake, expiry.addingTimeInterval(0.001)) }
                try await clock.sleep(until: wake)
            }
        }
        return tally
    }

    /// What the drain loop hears from its child tasks.
    private enum DrainEvent: Sendable {
        /// A delivery ended its turn: its outcome to record, or nil when its claim was lost before anything was sent.
        case finished(ClaimedDelivery, DeliveryOutcome?)
        /// A settle transaction committed: these outcomes are recorded (except the lost) and these claims are held;
        /// it took this long.
        case settled(Settlement, recorded: [DeliveryOutcome], asked: Int, took: Duration)
    }

    /// Claims to queue behind the requests in flight: the requests that finish, at the rate of the last interval
    /// (`finished` in `interval`), while two commits (`commit` each) run, rounded up; at most `limit`.
    ///
    /// Two, because a slot that frees up while a commit runs is refilled from the queue, and the claims that top the
    /// queue up again are asked for only when the next commit starts and are there when it ends. With one commit's
    /// worth the queue ran dry halfway through most commits and slots waited (10,000 groups: 0.99 → 0.88 s median).
    static func queueDepth(finished: Int, in interval: Duration, commit: Duration, limit: Int) -> Int {
        guard finished > 0, interval > .zero else { return 0 }
        let expected = Double(finished) * (commit / interval) * 2
        return min(limit, Int(expected.rounded(.up)))
    }

    /// Turns claims whose lease ran out, or whose owner died, into `in_doubt` (or `retry` under `resend`).
    @discardableResult
    func expireLeases() async throws -> [ExpiredLease] {
        let expired = try await store.expireLeases(
            now: clock.now(), policy: config.dispatch.inDoubt, isOwnerAlive: isOwnerAlive
        )
        for lease in expired {
            logger.warning(
                "claim expired: outcome unknown",
                metadata: ["delivery": "\(lease.deliveryID)", "state": "\(lease.newState.rawValue)"]
            )
        }
        return expired
    }

    /// Sends the remaining parts of one claimed delivery and decides its outcome. Never throws: every failure is
    /// an outcome to record. Returns nil when the claim was lost before anything was sent.
    func deliver(_ claim: ClaimedDelivery, notice stored: StoredNotice?) async -> DeliveryOutcome? {
        let settings = config.dispatch
        func outcome(_ result: DeliveryOutcome.Result, parts: Int, _ error: String? = nil) -> DeliveryOutcome {
            DeliveryOutcome(claim: claim, result: result, partsSent: parts, error: error, at: clock.now())
        }
        guard let stored else {
            return outcome(.dead, parts: claim.partsSent, "notice \(claim.noticeID) is missing from the ledger")
        }
        guard let group = config.group(claim.groupID), let sink = sinks.sink(named: group.sink) else {
            return outcome(.dead, parts: claim.partsSent, "group \(claim.groupID) is no longer in the config: not sent")
        }
        let texts = MessageParts.parts(of: stored.notice, for: group, limit: sink.limit(for: group))
        if claim.partsSent > 0 && texts.count != claim.partsTotal {
            return outcome(
                .inDoubt, parts: claim.partsSent,
                "the notice now splits into \(texts.count) parts for this group, not \(claim.partsTotal) as when \(claim.partsSent) were sent; check the group"
            )
        }
        var partsSent = min(claim.partsSent, texts.count)
        var leaseUntil = claim.leaseUntil
        let bot = sink.botKey(for: group)
        let spacing = (group.rate ?? sink.rate).map(BotPacer.spacing) ?? 0
        // Hold a claim for a paced bot only briefly; longer waits go back to the ledger, not in a claim.
        let horizon = max(5, 2 * spacing)
        while partsSent < texts.count {
            switch await pacer.reserve(bot: bot, spacing: spacing, now: clock.now(), horizon: horizon) {
            case .sendAt(let slot):
                if slot > clock.now() { try? await clock.sleep(until: slot) }
            case .deferUntil(let slot):
                return outcome(.deferred(until: slot), parts: partsSent)
            }
            // Never send on a lease that could run out mid-request: renew it first (fenced), or stop.
            let remaining = settings.timeout * (texts.count - partsSent)
            if clock.now().addingTimeInterval((remaining + .seconds(5)).seconds) > leaseUntil {
                let until = clock.now().addingTimeInterval((remaining + settings.leaseMargin).seconds)
                guard (try? await store.renewLease(claim, until: until)) == true else {
                    if partsSent == claim.partsSent { return nil }
                    return outcome(.inDoubt, parts: partsSent, "claim lost between parts")
                }
                leaseUntil = until
            }
            if texts.count > 1 {
                // Mark the part before it leaves, so a crash is known to have happened between parts or not.
                let marked: Bool
                do {
                    marked = try await store.markPartInFlight(claim, part: partsSent + 1, at: clock.now())
                } catch {
                    logger.error(
                        "cannot mark part in flight", metadata: ["delivery": "\(claim.id)", "error": "\(error)"])
                    return outcome(
                        .deferred(until: clock.now().addingTimeInterval(settings.backoff.seconds)), parts: partsSent)
                }
                // Lost: everything sent so far is recorded, this part was not sent; the new holder decides.
                if !marked { return nil }
            }
            let message = OutgoingMessage(
                deliveryID: claim.id, notice: stored.notice, noticeCreatedAt: stored.createdAt, group: group,
                part: partsSent + 1, partCount: texts.count, text: texts[partsSent], timeout: settings.timeout
            )
            let verdict: Verdict
            do {
                let request = try sink.request(for: message, now: clock.now())
                let started = ContinuousClock.now
                let answer = await transport.send(request)
                FanoutMetrics.request(sink: sink.name, duration: ContinuousClock.now - started)
                switch answer {
                case .success(let response):
                    verdict = sink.classify(response)
                    if let wait = sink.pacing(after: response) {
                        await pacer.pause(bot: bot, until: clock.now().addingTimeInterval(wait.seconds))
                    }
                case .failure(let error) where error.outOfDescriptors:
                    // This process ran out of descriptors: nothing was sent and the receiver is not at fault; try
                    // again shortly without spending an attempt.
                    verdict = .rateLimited(after: .seconds(1), reason: error.description)
                    BurstLog.outOfDescriptors.hit(["delivery": "\(claim.id)"])
                case .failure(let error) where error.kind == .notSent:
                    verdict = .retry(after: nil, reason: error.description)
                case .failure(let error):
                    verdict = .unknown(reason: error.description)
                }
            } catch {
                verdict = .permanent(reason: error.message)
            }
            FanoutMetrics.outcome(sink: sink.name, verdict.name)
            let reason = verdict.reason.map { SecretMask.redact($0, secrets: group.secrets) }
            logger.debug(
                "attempt",
                metadata: [
                    "delivery": "\(claim.id)", "group": "\(group.id)", "sink": "\(sink.name)",
                    "part": "\(message.part)/\(message.partCount)", "attempt": "\(claim.attempts)",
                    "verdict": "\(verdict.name)", "reason": "\(reason ?? "")",
                ]
            )
            switch verdict {
            case .sent:
                partsSent += 1
                if partsSent < texts.count {
                    // Make the part durable before sending the next one: a crash resumes after it.
                    do {
                        guard try await store.recordProgress(claim, partsSent: partsSent, at: clock.now()) else {
                            return outcome(.inDoubt, parts: partsSent, "claim lost between parts")
                        }
                    } catch {
                        logger.error(
                            "cannot record part progress", metadata: ["delivery": "\(claim.id)", "error": "\(error)"])
                        return outcome(
                            .inDoubt, parts: partsSent, "part \(partsSent) sent but its progress could not be recorded")
                    }
                }
            case .retry(let after, _):
                if claim.attempts >= settings.attempts {
                    return outcome(.dead, parts: partsSent, "gave up after \(claim.attempts) attempts: \(reason ?? "")")
                }
                let delay = after ?? Backoff(settings).delay(afterAttempt: claim.attempts)
                return outcome(
                    .retry(at: clock.now().addingTimeInterval(delay.seconds), refundAttempt: false), parts: partsSent,
                    reason)
            case .rateLimited(let after, _):
                let delay = after ?? settings.rateLimitPause
                await pacer.pause(bot: bot, until: clock.now().addingTimeInterval(delay.seconds))
                return outcome(
                    .retry(at: clock.now().addingTimeInterval(delay.seconds), refundAttempt: true), parts: partsSent,
                    reason)
            case .permanent:
                return outcome(.dead, parts: partsSent, reason)
            case .unknown:
                if settings.inDoubt == .resend && claim.attempts < settings.attempts {
                    let delay = Backoff(settings).delay(afterAttempt: claim.attempts)
                    return outcome(
                        .retry(at: clock.now().addingTimeInterval(delay.seconds), refundAttempt: false),
                        parts: partsSent,
                        (reason ?? "") + "; resending (dispatch.in_doubt: resend)"
                    )
                }
                return outcome(.inDoubt, parts: partsSent, reason)
            }
        }
        return outcome(.sent, parts: partsSent)
    }
}

/// Counts of what one dispatcher run did.
public struct DispatchProgress: Sendable, Equatable {
    /// Deliveries confirmed sent.
    public var sent = 0
    /// Deliveries that will be retried.
    public var retried = 0
    /// Deliveries that ended dead.
    public var dead = 0
    /// Deliveries that ended in doubt.
    public var inDoubt = 0
    /// Deliveries handed back unsent because their bot was paced or paused.
    public var deferred = 0

    /// Creates empty counts.
    public init() {}

    mutating func count(_ result: DeliveryOutcome.Result?) {
        switch result {
        case .sent: sent += 1
        case .retry: retried += 1
        case .dead: dead += 1
        case .inDoubt: inDoubt += 1
        case .deferred: deferred += 1
        case nil: break
        }
    }
}

extension Verdict {
    var reason: String? {
        switch self {
        case .sent: nil
        case .retry(_, let reason), .rateLimited(_, let reason), .permanent(let reason), .unknown(let reason): reason
        }
    }

    var name: String {
        switch self {
        case .sent: "sent"
        case .retry: "retry"
        case .rateLimited: "rate_limited"
        case .permanent: "permanent"
        case .unknown: "unknown"
        }
    }
}
