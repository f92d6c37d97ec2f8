import Channels
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
    let store: any DispatchLedger
    let transport: any Transport
    let sinks: SinkRegistry
    let config: GridcastConfig
    let liveness: any OwnerLiveness
    let pacer: any BotPacing
    let clock: any DispatchClock
    let uploads: PosterUploads
    let logger: Logger

    /// Creates a dispatcher. Keep one `pacer` and one `uploads` for the life of the process (across reloads), so a
    /// bot's pacing survives a new dispatcher and a poster is uploaded once per app. Without a pacer it paces
    /// through the ledger when the ledger is shared, else in this process (``LedgerBotPacer``).
    public init(
        store: any DispatchLedger,
        transport: any Transport,
        sinks: SinkRegistry,
        config: GridcastConfig,
        liveness: any OwnerLiveness = ProcessLiveness(),
        pacer: (any BotPacing)? = nil,
        clock: any DispatchClock = SystemDispatchClock(),
        uploads: PosterUploads? = nil,
        logger: Logger = Logger(label: "gridcast.dispatch")
    ) {
        self.uploads = uploads ?? .standard(transport: transport)
        self.store = store
        self.transport = transport
        self.sinks = sinks
        self.config = config
        self.liveness = liveness
        self.pacer = pacer ?? LedgerBotPacer(store: store)
        self.clock = clock
        self.logger = logger
    }

    /// The owner this dispatcher writes on its claims.
    var owner: String { liveness.owner }

    /// Sends every due delivery of `noticeID` (or of every notice) until none is planned, retrying or claimed;
    /// waits for retries and for other processes' claims. `progress` is called after each recorded batch.
    /// With `keepRunning` (the daemon) it never runs out of work: it polls the ledger for new plans until stopped.
    ///
    /// When `stopRequested` turns true the dispatcher claims nothing more, hands back the claims that have not
    /// started (queued, or parked behind their bot's pacing), lets the requests in flight finish and records them,
    /// and returns: a clean stop leaves nothing in doubt.
    ///
    /// Finished sends are recorded together with the claims that refill the queue, in one transaction: while it
    /// commits, the next finished sends gather for the one after (group commit), and the queued claims keep every
    /// slot busy. A claim is durable before its request starts, and the ledger never holds more claims of this
    /// dispatcher than twice `dispatch.concurrency` (in flight, queued, or finished and not yet recorded).
    ///
    /// A ledger that fails a write (locked too long, disk full, I/O error) does not lose what is known: the batch of
    /// finished outcomes is kept and committed again with backoff, nothing new is claimed or started meanwhile, and
    /// the requests already in flight finish and join the batch (`docs/ledger.md`, "When the ledger fails").
    public func drain(
        noticeID: String?,
        keepRunning: Bool = false,
        stopRequested: @escaping @Sendable () -> Bool = { false },
        progress: (@Sendable (DispatchProgress) -> Void)? = nil
    ) async throws -> DispatchProgress {
        let concurrency = config.dispatch.concurrency
        var tally = DispatchProgress()
        var notices: [String: StoredNotice] = [:]
        let wakeups = await store.wakeups()
        try await expireLeases()
        try await withThrowingTaskGroup(of: DrainEvent.self) { group in
            var running = 0
            // Committed claims waiting for a free slot, oldest first.
            var queued: [ClaimedDelivery] = []
            // How many to queue: as many requests as finish, at the recent rate, in the time two commits take, so a
            // slot's next request need not wait for one. Near zero when answers take much longer than a commit.
            var ahead = 0
            var finishedSinceSettle = 0
            var lastSettle = ContinuousClock.now
            // Outcomes (and hand-backs) not yet committed: kept until a commit succeeds.
            var unrecorded: [DeliveryOutcome] = []
            var committing = false
            // False once a claim came back short: no claim-only transaction until the ledger is looked at again.
            var mayClaim = true
            // Set while the ledger fails writes: nothing is claimed or started, and the next commit waits until then.
            var trouble: LedgerTrouble?
            func start(_ claim: ClaimedDelivery) {
                let stored = notices[claim.noticeID]
                running += 1
                group.addTask {
                    .finished(claim, await self.deliver(claim, notice: stored, stopRequested: stopRequested))
                }
            }
            func handBack(_ claims: [ClaimedDelivery]) {
                let now = clock.now()
                unrecorded += claims.map {
                    DeliveryOutcome(
                        claim: $0, result: .deferred(until: now), partsSent: $0.partsSent, error: nil, at: now)
                }
            }
            // Set by an error no retry can mend (the ledger file deleted or replaced): nothing more is committed, the
            // requests in flight finish, and the drain ends with it.
            var fatal: (any Error)?
            func failed(_ error: any Error, doing what: String) {
                if let ledgerError = error as? LedgerError, !ledgerError.isRetryable {
                    logger.critical(
                        "ledger failed for good: \(what); stopping", metadata: ["error": "\(error)"])
                    fatal = error
                    return
                }
                trouble = LedgerTrouble(after: trouble, now: clock.now())
                logger.error(
                    "ledger write failed: \(what); nothing new is claimed or sent until it succeeds",
                    metadata: [
                        "error": "\(error)", "retry_in": "\(trouble!.pause)", "unrecorded": "\(unrecorded.count)",
                        "in_flight": "\(running)",
                    ]
                )
            }
            while true {
                if let fatal, running == 0, !committing { throw fatal }
                let stopping = stopRequested() || fatal != nil
                if stopping && !queued.isEmpty {
                    // Not started: hand them back (with the next commit) rather than leave them claimed.
                    handBack(queued)
                    queued = []
                }
                while trouble == nil && !stopping && running < concurrency && !queued.isEmpty {
                    start(queued.removeFirst())
                }
                if fatal == nil && !committing && (trouble?.retryAt ?? .distantPast) <= clock.now() {
                    // Claimed rows of this dispatcher after the commit = `running` + `queued`: finished ones are
                    // recorded in it. While the ledger fails, a retry records what waits and claims nothing; with
                    // nothing waiting, a claim is the try.
                    let free =
                        stopping || (trouble != nil && !unrecorded.isEmpty)
                        ? 0 : concurrency + ahead - running - queued.count
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
                            do {
                                let settlement = try await self.store.settle(batch, claiming: request)
                                let took = ContinuousClock.now - started
                                FanoutMetrics.commit("settle", duration: took)
                                return .settled(settlement, recorded: batch, asked: request?.limit ?? 0, took: took)
                            } catch {
                                return .settleFailed(error, batch: batch)
                            }
                        }
                    }
                }
                FanoutMetrics.window(inFlight: running, waiting: queued.count + unrecorded.count)
                if running > 0 || committing {
                    switch try await group.next() {
                    case .finished(let claim, let outcome)?:
                        running -= 1
                        finishedSinceSettle += 1
                        if let outcome {
                            unrecorded.append(outcome)
                        } else {
                            logger.warning("lost lease before sending: skipped", metadata: ["delivery": "\(claim.id)"])
                        }
                    case .settleFailed(let error, let batch)?:
                        committing = false
                        // Nothing of it is recorded: keep every outcome, oldest first, for the next try.
                        unrecorded = batch + unrecorded
                        failed(error, doing: "recording \(batch.count) outcomes")
                    case .settled(let settlement, let recorded, let asked, let took)?:
                        committing = false
                        if trouble != nil {
                            logger.notice(
                                "ledger writable again: recorded what waited",
                                metadata: ["recorded": "\(recorded.count)"])
                            trouble = nil
                        }
                        let lost = Set(settlement.lost)
                        for outcome in recorded {
                            if lost.contains(outcome.claim.id) {
                                logger.warning(
                                    "lost lease: outcome not recorded",
                                    metadata: ["delivery": "\(outcome.claim.id)", "group": "\(outcome.claim.groupID)"]
                                )
                            } else {
                                tally.count(outcome.result)
                                logFailure(outcome, title: notices[outcome.claim.noticeID]?.notice.title)
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
                            handBack(claimed)
                            continue
                        }
                        let missing = Set(claimed.map(\.noticeID)).subtracting(notices.keys)
                        if !missing.isEmpty {
                            do {
                                notices.merge(try await store.notices(ids: Array(missing))) { old, _ in old }
                            } catch {
                                // Their notices can't be read, so they can't be rendered: give them back unsent.
                                handBack(claimed)
                                failed(error, doing: "reading \(missing.count) notices")
                                continue
                            }
                        }
                        queued += claimed
                    case nil:
                        break
                    }
                    continue
                }
                if let trouble, trouble.retryAt > clock.now() {
                    // Nothing in flight, and the ledger failed: try again at the set time, not in a tight loop.
                    try await clock.sleep(until: trouble.retryAt)
                    continue
                }
                if stopping { break }
                // Nothing in flight, nothing claimable now: done, or wait for retries and others' claims.
                let status: PendingStatus
                // Read before looking: a plan committed after the look still wakes the wait below.
                let seen = await wakeups.seen
                do {
                    status = try await store.pending(noticeID: noticeID, now: clock.now())
                    mayClaim = true
                    if status.dueNow > 0 { continue }
                    if status.isSettled && !keepRunning { break }
                    if try await !expireLeases().isEmpty { continue }
                    trouble = nil
                } catch {
                    failed(error, doing: "reading what is due")
                    if let trouble { try await clock.sleep(until: trouble.retryAt) }
                    continue
                }
                // Wait for work: a plan, firing or retry of this process or (a shared ledger) another instance
                // wakes it at once; a slow poll finds what else comes due or what another process wrote.
                var wake = clock.now().addingTimeInterval(1)
                if let due = status.nextDueAt { wake = min(wake, due) }
                if let expiry = status.nextLeaseExpiry { wake = min(wake, expiry.addingTimeInterval(0.001)) }
                let until = wake
                try await withThrowingTaskGroup(of: Void.self) { waits in
                    waits.addTask { [clock] in try await clock.sleep(until: until) }
                    waits.addTask { await wakeups.wait(after: seen) }
                    try await waits.next()
                    waits.cancelAll()
                }
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
        /// A settle transaction failed: nothing of `batch` is recorded and nothing was claimed.
        case settleFailed(any Error, batch: [DeliveryOutcome])
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

    /// Logs a recorded `dead` or `in_doubt` outcome at warning level, so `journalctl -p warning` lists every delivery
    /// an operator must look at. The reason was redacted of the group's secrets where it was made.
    private func logFailure(_ outcome: DeliveryOutcome, title: String?) {
        let state: DeliveryState
        switch outcome.result {
        case .dead: state = .dead
        case .inDoubt: state = .inDoubt
        default: return
        }
        let claim = outcome.claim
        logger.warning(
            "delivery \(state.rawValue)",
            metadata: [
                "group": "\(claim.groupID)", "group_name": "\(config.group(claim.groupID)?.name ?? "")",
                "notice": "\(claim.noticeID)", "title": "\(title ?? "")", "reason": "\(outcome.error ?? "")",
            ]
        )
    }

    /// Turns claims whose lease ran out, or whose owner died, into `in_doubt` (or `retry` under `resend`).
    @discardableResult
    func expireLeases() async throws -> [ExpiredLease] {
        let expired = try await store.expireLeases(
            now: clock.now(), policy: config.dispatch.inDoubt, isOwnerAlive: liveness.isAlive
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
    ///
    /// A delivery is sent with the part count the ledger holds for it. The parts are rendered from the current
    /// config, so a reload can change how many there are: then, before anything of it was sent, the new count is
    /// stored with the first part's mark; after a part was sent, it is not sent further and goes in doubt for the
    /// operator. Every request of a multi-part delivery, or of one whose count changed, is marked in the ledger before
    /// it leaves, so a crash is known to have happened during a request or between two (`docs/ledger.md`).
    func deliver(
        _ claim: ClaimedDelivery, notice stored: StoredNotice?, stopRequested: @Sendable () -> Bool = { false }
    ) async -> DeliveryOutcome? {
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
        let parts = MessageParts.plan(of: stored.notice, for: group, on: sink).parts
        if claim.partsSent > 0 && parts.count != claim.partsTotal {
            return outcome(
                .inDoubt, parts: claim.partsSent,
                "the notice now has \(parts.count) parts for this group, not \(claim.partsTotal) as when \(claim.partsSent) were sent; check the group"
            )
        }
        let marksParts = parts.count > 1 || parts.count != claim.partsTotal
        var partsSent = claim.partsSent
        var leaseUntil = claim.leaseUntil
        var confirmedAt = claim.confirmedAt
        /// Not sent: back to the ledger, attempt refunded (parts already confirmed stay recorded).
        func handBack(until: Date? = nil) -> DeliveryOutcome {
            outcome(.deferred(until: until ?? clock.now()), parts: partsSent)
        }
        let bot = sink.botKey(for: group)
        let spacing = (group.rate ?? sink.rate).map(BotPacer.spacing) ?? 0
        // Every limit a message counts against: its bot's, and the one it shares with other groups (a Telegram
        // token's). A "too fast" answer pauses them all.
        var bots = [PacedBot(key: bot, spacing: spacing)]
        if let shared = sink as? any SharedPacing {
            bots.append(PacedBot(key: shared.sharedKey(for: group), spacing: BotPacer.spacing(shared.sharedRate)))
        }
        func pause(until date: Date) async {
            for paced in bots { await pacer.pause(bot: paced.key, until: date) }
        }
        /// Whether any part was only accepted (not confirmed) by the platform.
        var unconfirmed = false
        while partsSent < parts.count {
            // A claim waits for its bot only as long as its lease allows, keeping room for the requests it still has
            // to make; a longer wait goes back to the ledger instead of sitting in a claim.
            let remaining = settings.timeout * (parts.count - partsSent)
            let leaseRoom = leaseUntil.timeIntervalSince(clock.now()) - (remaining + .seconds(5)).seconds
            let horizon = max(0, min(max(5, 2 * spacing), leaseRoom))
            switch await pacer.reserve(bots, now: clock.now(), horizon: horizon) {
            case .sendAt(let slot):
                if await !parked(until: slot, stopRequested: stopRequested) { return handBack() }
            case .deferUntil(let slot):
                return handBack(until: slot)
            }
            // Last look before anything leaves: a stop or a cancelled task sends nothing new.
            if Task.isCancelled || stopRequested() { return handBack() }
            // Never send on a lease that could run out mid-request, nor on a claim a shared ledger may have ended
            // while this process was paused: renew it first (fenced), or stop.
            let stale =
                claim.confirmEvery.map { every in
                    confirmedAt.map { clock.now() > $0.addingTimeInterval(every.seconds) } ?? true
                } ?? false
            if stale || clock.now().addingTimeInterval((remaining + .seconds(5)).seconds) > leaseUntil {
                let until = clock.now().addingTimeInterval((remaining + settings.leaseMargin).seconds)
                do {
                    guard try await store.renewLease(claim, until: until, at: clock.now()) else {
                        if partsSent == claim.partsSent { return nil }
                        return outcome(.inDoubt, parts: partsSent, "claim lost between parts")
                    }
                } catch {
                    // The ledger could not be asked: the claim may still be ours, but sending needs the longer lease.
                    logger.error("cannot renew a lease", metadata: ["delivery": "\(claim.id)", "error": "\(error)"])
                    return handBack(until: clock.now().addingTimeInterval(settings.backoff.seconds))
                }
                leaseUntil = until
                confirmedAt = clock.now()
            }
            // A poster the platform shows only by its own reference is uploaded before the part is marked: an
            // upload posts nothing, so its failure (or a crash during it) leaves nothing in doubt.
            var media: String?
            var failedUpload: UploadFailure?
            if case .poster(let poster) = parts[partsSent], case .uploaded = sink.posterHandling(poster, for: group) {
                do throws(UploadFailure) {
                    media = try await uploadedMedia(poster, for: group)
                } catch {
                    failedUpload = error
                }
            }
            if marksParts && failedUpload == nil {
                // Mark the part before it leaves, so a crash is known to have happened between parts or not.
                let marked: Bool
                do {
                    marked = try await store.markPartInFlight(
                        claim, part: partsSent + 1, of: parts.count, at: clock.now())
                } catch {
                    logger.error(
                        "cannot mark part in flight", metadata: ["delivery": "\(claim.id)", "error": "\(error)"])
                    return handBack(until: clock.now().addingTimeInterval(settings.backoff.seconds))
                }
                // Lost: everything sent so far is recorded, this part was not sent; the new holder decides.
                if !marked { return nil }
            }
            var message = OutgoingMessage(
                deliveryID: claim.id, notice: stored.notice, noticeCreatedAt: stored.createdAt, group: group,
                part: partsSent + 1, partCount: parts.count, text: parts[partsSent].text, content: parts[partsSent],
                timeout: settings.timeout
            )
            let verdict: Verdict
            message.media = media
            do {
                if let failedUpload { throw failedUpload }
                let request = try sink.request(for: message, now: clock.now())
                let started = ContinuousClock.now
                let answer = await transport.send(request)
                FanoutMetrics.request(sink: sink.name, duration: ContinuousClock.now - started)
                switch answer {
                case .success(let response):
                    verdict = sink.classify(response)
                    if let wait = sink.pacing(after: response) {
                        await pause(until: clock.now().addingTimeInterval(wait.seconds))
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
            } catch let failure as UploadFailure {
                // Nothing was posted: the upload failed before the message was sent.
                verdict = failure.verdict
            } catch let error as RenderError {
                verdict = .permanent(reason: error.message)
            } catch {
                verdict = .permanent(reason: "\(error)")
            }
            FanoutMetrics.outcome(sink: sink.name, verdict.name)
            let reason = verdict.reason.map { group.secretForms.redact($0) }  // forms built only for a reason
            logger.debug(
                "attempt",
                metadata: [
                    "delivery": "\(claim.id)", "group": "\(group.id)", "sink": "\(sink.name)",
                    "part": "\(message.part)/\(message.partCount)", "attempt": "\(claim.attempts)",
                    "verdict": "\(verdict.name)", "reason": "\(reason ?? "")",
                ]
            )
            switch verdict {
            case .sent, .accepted:
                if case .accepted = verdict { unconfirmed = true }
                partsSent += 1
                if partsSent < parts.count {
                    // Make the part durable before sending the next one: a crash resumes after it.
                    do {
                        guard try await store.recordProgress(claim, partsSent: partsSent, at: clock.now()) else {
                            return outcome(.inDoubt, parts: partsSent, "claim lost between parts")
                        }
                    } catch {
                        // The part is confirmed, the next one not sent: this outcome says exactly that, and until it
                        // is recorded the part's mark keeps a crash in doubt rather than resending it.
                        logger.error(
                            "cannot record part progress", metadata: ["delivery": "\(claim.id)", "error": "\(error)"])
                        return outcome(
                            .retry(at: clock.now().addingTimeInterval(settings.backoff.seconds), refundAttempt: true),
                            parts: partsSent, "part \(partsSent) of \(parts.count) sent; the rest resumes after it")
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
                await pause(until: clock.now().addingTimeInterval(delay.seconds))
                return outcome(
                    .retry(at: clock.now().addingTimeInterval(delay.seconds), refundAttempt: true), parts: partsSent,
                    reason)
            case .permanent:
                return outcome(.dead, parts: partsSent, reason)
            case .unknown:
                // Resent only where that cannot post twice (a receiver that deduplicates on the delivery id), or
                // where the operator chose resending over holding.
                let why: String? =
                    sink.deduplicates
                    ? "resending (the receiver deduplicates on webhook-id)"
                    : settings.inDoubt == .resend ? "resending (dispatch.in_doubt: resend)" : nil
                if let why, claim.attempts < settings.attempts {
                    let delay = Backoff(settings).delay(afterAttempt: claim.attempts)
                    return outcome(
                        .retry(at: clock.now().addingTimeInterval(delay.seconds), refundAttempt: false),
                        parts: partsSent, (reason ?? "") + "; " + why
                    )
                }
                return outcome(.inDoubt, parts: partsSent, reason)
            }
        }
        return outcome(unconfirmed ? .accepted : .sent, parts: partsSent)
    }

    /// The platform's reference to `poster` for `group`, uploaded with the group's app (or earlier, and remembered).
    private func uploadedMedia(_ poster: Poster, for group: Group) async throws(UploadFailure) -> String {
        let media: UploadedMedia?
        do {
            media = try await uploads.media(for: poster, group: group)
        } catch {
            throw UploadFailure(error: error)
        }
        guard let media else { throw UploadFailure(error: .malformed("no uploader for \(group.sink)")) }
        return media.key
    }

    /// Waits for a paced bot's slot; false when a stop or a cancellation came first (nothing is sent then).
    private func parked(until slot: Date, stopRequested: @Sendable () -> Bool) async -> Bool {
        while clock.now() < slot {
            if Task.isCancelled || stopRequested() { return false }
            do {
                try await clock.sleep(until: min(slot, clock.now().addingTimeInterval(0.25)))
            } catch {
                return false
            }
        }
        return true
    }
}

/// Counts of what one dispatcher run did.
public struct DispatchProgress: Sendable, Equatable {
    /// Deliveries confirmed sent.
    public var sent = 0
    /// Deliveries the platform accepted without confirming them posted.
    public var accepted = 0
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
        case .accepted: accepted += 1
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
        case .sent, .accepted: nil
        case .retry(_, let reason), .rateLimited(_, let reason), .permanent(let reason), .unknown(let reason): reason
        }
    }

    var name: String {
        switch self {
        case .sent: "sent"
        case .accepted: "accepted"
        case .retry: "retry"
        case .rateLimited: "rate_limited"
        case .permanent: "permanent"
        case .unknown: "unknown"
        }
    }
}
