import Foundation
import Ledger

/// Pacing through the ledger when it is shared (``DispatchLedger/reserveSlot(_:now:horizon:)``): every instance's
/// slots for a bot come from one row, so together they keep its rate. A ledger that leaves pacing to each process
/// answers nil, and the process's own ``BotPacer`` paces.
public struct LedgerBotPacer: BotPacing {
    let store: any DispatchLedger
    let local: BotPacer

    /// Paces through `store` when it shares pacing, else with `local`.
    public init(store: any DispatchLedger, local: BotPacer = BotPacer()) {
        self.store = store
        self.local = local
    }

    public func reserve(_ bots: [PacedBot], now: Date, horizon: TimeInterval) async -> PacingSlot {
        do {
            switch try await store.reserveSlot(bots, now: now, horizon: horizon) {
            case .sendAt(let date)?: return .sendAt(date)
            case .busyUntil(let date)?: return .deferUntil(date)
            case nil: return await local.reserve(bots, now: now, horizon: horizon)
            }
        } catch {
            // The shared slots can't be read: send nothing now (the claim goes back, kept until the ledger answers).
            return .deferUntil(now.addingTimeInterval(1))
        }
    }

    public func pause(bot: String, until: Date) async {
        await local.pause(bot: bot, until: until)
        try? await store.pauseBot(bot, until: until)
    }
}
