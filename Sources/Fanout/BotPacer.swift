import Foundation
import GridcastCore
import Ledger

/// Per-bot pacing: each bot (webhook URL, or URL and chat) gets its next send slot no sooner than its rate allows,
/// so gridcast never provokes a "too fast" answer in normal operation, and a bot that said "too fast" (or whose
/// headers said "wait") is paused while every other bot keeps full speed. ``BotPacer`` paces the bots of one
/// process; several processes sharing bots need a pacer that shares its slots (through their common ledger).
public protocol BotPacing: Sendable {
    /// Reserves one slot for a message that counts against every bot in `bots` at once (a Telegram chat and its
    /// bot token): the first time all of them are free, if it is within `horizon` of `now`; otherwise says when to
    /// come back, and reserves nothing.
    func reserve(_ bots: [PacedBot], now: Date, horizon: TimeInterval) async -> PacingSlot
    /// Pauses the bot until `until` (a rate-limit answer, or headers saying the bucket is empty).
    func pause(bot: String, until: Date) async
}

extension BotPacing {
    /// Reserves the bot's next slot if it is within `horizon` of `now`; otherwise says when to come back.
    public func reserve(bot: String, spacing: TimeInterval, now: Date, horizon: TimeInterval) async -> PacingSlot {
        await reserve([PacedBot(key: bot, spacing: spacing)], now: now, horizon: horizon)
    }
}

/// One limit a message counts against: its key (never logged: it may hold a credential) and the spacing it needs,
/// as a shared ledger paces it too.
public typealias PacedBot = BotSlot

/// What a sender should do, as its bot's pacing says.
public enum PacingSlot: Sendable, Equatable {
    /// Send at this time (now or soon): the slot is reserved.
    case sendAt(Date)
    /// The bot is busy for longer than is worth holding a claim: give the delivery back until then.
    case deferUntil(Date)
}

/// The pacing of one process's bots, in memory.
///
/// The bucket holds one token: messages to one bot are spaced `period / count` apart for the tightest window, which
/// can never exceed any of the platform's windows, sliding or fixed.
public actor BotPacer: BotPacing {
    private var nextFree: [String: Date] = [:]

    /// A pacer with every bot free.
    public init() {}

    /// The smallest spacing that keeps a bot within every window of `rate`.
    static func spacing(_ rate: RateLimit) -> TimeInterval {
        // Without an intermediate array: asked once per delivery.
        rate.windows.reduce(0) { max($0, Double($1.period.components.seconds) / Double($1.count)) }
    }

    public func reserve(_ bots: [PacedBot], now: Date, horizon: TimeInterval) -> PacingSlot {
        let slot = bots.reduce(now) { max($0, nextFree[$1.key] ?? now) }
        if slot.timeIntervalSince(now) > horizon { return .deferUntil(slot) }
        for bot in bots { nextFree[bot.key] = slot.addingTimeInterval(bot.spacing) }
        return .sendAt(slot)
    }

    public func pause(bot: String, until: Date) {
        nextFree[bot] = max(nextFree[bot] ?? until, until)
    }
}
