import Foundation

/// One machine's ledger leaves pacing to each process (``DispatchLedger/reserveSlot(_:now:horizon:)``).
extension SQLiteLedgerStore {
    public func reserveSlot(_ bots: [BotSlot], now: Date, horizon: TimeInterval) async throws -> SlotReservation? {
        nil
    }

    public func pauseBot(_ key: String, until: Date) async throws {}
}
