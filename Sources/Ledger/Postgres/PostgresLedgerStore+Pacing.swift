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

    /// One bot's slot (nearly every message) in one statement, outside a transaction: the row is taken and moved
    /// when the slot is within the horizon, and only read otherwise. Times are the database's clock, as in
    /// ``PostgresClock`` (differences under a second taken as none).
    private func reserveSlot(_ bot: BotSlot, now: Date, horizon: TimeInterval) async throws -> SlotReservation {
        let key = Self.slotKey(bot.key)
        let spacing = Int64((bot.spacing * 1000).rounded())
        let ahead = Int64((horizon * 1000).rounded())
        let (wanted, local) = (now.ledgerMillis, Date().ledgerMillis)
        return try await read(within: Self.dispatchDeadline) { tx in
            guard
                let row = try await tx.row(
                    """
                    WITH clock AS (
                        SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint - \(local) AS skew),
                    t AS (
                        SELECT skew, CASE WHEN abs(skew) < 1000 THEN \(wanted) ELSE \(wanted) + skew END AS now
                        FROM clock),
                    taken AS (
                        INSERT INTO bot_slots AS b (bot, next_free) SELECT \(key), now + \(spacing) FROM t
                        ON CONFLICT (bot) DO UPDATE
                            SET next_free = greatest(b.next_free, (SELECT now FROM t)) + \(spacing)
                            WHERE greatest(b.next_free, (SELECT now FROM t)) <= (SELECT now FROM t) + \(ahead)
                        RETURNING b.next_free - \(spacing) AS slot)
                    SELECT slot, true, (SELECT skew FROM t) FROM taken
                    UNION ALL
                    SELECT next_free, false, (SELECT skew FROM t) FROM bot_slots
                    WHERE bot = \(key) AND NOT EXISTS (SELECT 1 FROM taken)
                    """)
            else { return .busyUntil(now.addingTimeInterval(1)) }
            let (slot, taken, skew) = try row.decode((Int64, Bool, Int64).self)
            let at = Date(ledgerMillis: slot - (abs(skew) < 1000 ? 0 : skew))
            return taken ? .sendAt(max(at, now)) : .busyUntil(at)
        }
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
