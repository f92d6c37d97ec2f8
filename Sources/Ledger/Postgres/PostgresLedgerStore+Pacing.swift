import Crypto
import Foundation
import GridcastCore
import PostgresNIO

/// Per-bot pacing shared by every instance (``DispatchLedger/reserveSlot(_:now:horizon:)``): a row per bot with the
/// time it is next free, on the database's clock, locked while a slot is taken. Three instances sending to one
/// WeCom bot together stay within its 20 messages a minute, as one does.
extension PostgresLedgerStore {
    public func reserveSlot(_ bots: [BotSlot], now: Date, horizon: TimeInterval) async throws -> SlotReservation? {
        guard !bots.isEmpty else { return .sendAt(now) }
        if bots.count == 1 { return try await reserveSlot(bots[0], now: now, horizon: horizon) }
        let keys = bots.map { Self.slotKey($0.key) }
        return try await write { tx in
            let clock = try await PostgresClock.read(tx)
            let current = clock.database(now)
            try await tx.rows(
                "INSERT INTO bot_slots (bot, next_free) SELECT unnest(\(keys)::text[]), 0 ON CONFLICT DO NOTHING")
            // Locked in one order, so two instances reserving overlapping sets can't deadlock.
            let rows = try await tx.rows(
                "SELECT bot, next_free FROM bot_slots WHERE bot = ANY(\(keys)) ORDER BY bot FOR UPDATE")
            var free: [String: Int64] = [:]
            for row in rows {
                let (bot, nextFree) = try row.decode((String, Int64).self)
                free[bot] = nextFree
            }
            let slot = keys.reduce(current) { max($0, free[$1] ?? current) }
            if Double(slot - current) / 1000 > horizon { return .busyUntil(clock.local(slot)) }
            let ends = bots.map { slot + Int64(($0.spacing * 1000).rounded()) }
            try await tx.rows(
                """
                UPDATE bot_slots s SET next_free = v.next_free
                FROM unnest(\(keys)::text[], \(ends)::bigint[]) AS v(bot, next_free)
                WHERE s.bot = v.bot
                """)
            return .sendAt(clock.local(slot))
        }
    }

    /// One bot's slot (nearly every message): handed to the batcher, which takes the slots of every reservation
    /// waiting at once (``PostgresSlotBatcher``).
    private func reserveSlot(_ bot: BotSlot, now: Date, horizon: TimeInterval) async throws -> SlotReservation {
        try await slotBatcher.reserve(
            key: Self.slotKey(bot.key), spacing: Int64((bot.spacing * 1000).rounded()),
            ahead: Int64((horizon * 1000).rounded()), now: now
        ) { batch in try await self.takeSlots(batch) }
    }

    /// Takes the slots of a batch of one-bot reservations (their keys distinct) in one statement outside a
    /// transaction: each bot's row is taken and moved when its slot is within its reservation's horizon, and only
    /// read otherwise. Times are the database's clock, as in ``PostgresClock`` (differences under a second taken as
    /// none); every reservation of a batch is measured from the earliest `now` among them.
    func takeSlots(_ batch: [PostgresSlotBatcher.Request]) async throws -> [SlotReservation] {
        guard let wanted = batch.map(\.now).min() else { return [] }
        let local = Date().ledgerMillis
        let (keys, spacings, aheads) = (batch.map(\.key), batch.map(\.spacing), batch.map(\.ahead))
        let rows = try await read(within: Self.dispatchDeadline) { tx in
            try await tx.rows(
                """
                WITH clock AS (
                    SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint - \(local) AS skew),
                t AS (
                    SELECT skew, CASE WHEN abs(skew) < \(PostgresClock.tolerance) THEN \(wanted.ledgerMillis)
                        ELSE \(wanted.ledgerMillis) + skew END AS now
                    FROM clock),
                req AS (
                    SELECT * FROM unnest(\(keys)::text[], \(spacings)::bigint[], \(aheads)::bigint[])
                        AS r(bot, spacing, ahead)),
                taken AS (
                    INSERT INTO bot_slots AS b (bot, next_free)
                    SELECT r.bot, t.now + r.spacing FROM req r, t
                    ON CONFLICT (bot) DO UPDATE
                        SET next_free = greatest(b.next_free, (SELECT now FROM t))
                            + (excluded.next_free - (SELECT now FROM t))
                        WHERE greatest(b.next_free, (SELECT now FROM t))
                            <= (SELECT now FROM t) + (SELECT ahead FROM req WHERE req.bot = excluded.bot)
                    RETURNING b.bot, b.next_free)
                SELECT r.bot, coalesce(tk.next_free - r.spacing, s.next_free, (SELECT now FROM t)),
                    tk.bot IS NOT NULL, (SELECT skew FROM t)
                FROM req r LEFT JOIN taken tk ON tk.bot = r.bot LEFT JOIN bot_slots s ON s.bot = r.bot
                """)
        }
        var answers: [String: SlotReservation] = [:]
        for row in rows {
            let (bot, slot, taken, skew) = try row.decode((String, Int64, Bool, Int64).self)
            let at = Date(ledgerMillis: slot - (abs(skew) < 1000 ? 0 : skew))
            answers[bot] = taken ? .sendAt(max(at, wanted)) : .busyUntil(at)
        }
        return batch.map { answers[$0.key] ?? .busyUntil($0.now.addingTimeInterval(1)) }
    }

    public func pauseBot(_ key: String, until: Date) async throws {
        let bot = Self.slotKey(key)
        try await write { tx in
            let clock = try await PostgresClock.read(tx)
            let end = clock.database(until)
            try await tx.rows(
                """
                INSERT INTO bot_slots (bot, next_free) VALUES (\(bot), \(end))
                ON CONFLICT (bot) DO UPDATE SET next_free = greatest(bot_slots.next_free, excluded.next_free)
                """)
        }
    }

    /// The row's key: a digest of the bot's key, which may hold a credential.
    static func slotKey(_ key: String) -> String {
        Hex.encode(SHA256.hash(data: Data(key.utf8)))
    }
}
