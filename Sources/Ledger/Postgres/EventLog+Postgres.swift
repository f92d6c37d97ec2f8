import Foundation
import PostgresNIO

/// The PostgreSQL store's appends. Instances write at once, so the head of the chain is a row of its own
/// (`event_head`), locked by each append until its transaction commits: appends take their turn and the log stays
/// one linear chain, whichever instance writes.
extension EventLog {
    /// One event waiting to be appended: what a step of a transaction changed, logged with the others at its end.
    struct Pending: Sendable {
        let kind: LedgerEventKind
        let actor: String
        let at: Date
        let payload: String
    }

    /// The event holding the images written in `json`; nil when nothing changed.
    static func pending(kind: LedgerEventKind, actor: String, at: Date, json: CanonicalJSON) -> Pending? {
        json.isEmpty ? nil : Pending(kind: kind, actor: actor, at: at, payload: json.array)
    }

    /// Appends one event holding the images written in `json`, chained to the current head, inside the caller's
    /// transaction. Nothing is appended when nothing changed.
    static func append(
        _ tx: PostgresTransaction, kind: LedgerEventKind, actor: String, at: Date, json: CanonicalJSON
    ) async throws {
        try await append(tx, [pending(kind: kind, actor: actor, at: at, json: json)].compactMap { $0 })
    }

    /// Appends `events` in their order, inside the caller's transaction: the head is locked once and the events are
    /// written, with the head's move, in one statement, so a transaction that logs several steps pays for one.
    static func append(_ tx: PostgresTransaction, _ events: [Pending]) async throws {
        guard !events.isEmpty else { return }
        var (seq, prevHash) = try await lock(tx)
        var seqs: [Int64] = []
        var ats: [Int64] = []
        var kinds: [String] = []
        var actors: [String] = []
        var payloads: [String] = []
        var prevHashes: [String] = []
        var hashes: [String] = []
        for event in events {
            seq += 1
            let millis = event.at.ledgerMillis
            var payload = event.payload
            let hash = payload.withUTF8 { bytes in
                Self.hash(
                    prevHash: prevHash, seq: seq, at: millis, kind: event.kind.rawValue, actor: event.actor,
                    payload: bytes)
            }
            seqs.append(seq)
            ats.append(millis)
            kinds.append(event.kind.rawValue)
            actors.append(event.actor)
            payloads.append(payload)
            prevHashes.append(prevHash)
            hashes.append(hash)
            prevHash = hash
        }
        try await tx.rows(
            """
            WITH appended AS (
                INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash)
                SELECT * FROM unnest(\(seqs)::bigint[], \(ats)::bigint[], \(kinds)::text[], \(actors)::text[],
                    \(payloads)::text[], \(prevHashes)::text[], \(hashes)::text[]))
            UPDATE event_head SET seq = \(seq), hash = \(prevHash) WHERE id = 1
            """)
    }

    /// Locks the head and reads it. The head is locked last, just before the commit: the time other instances wait
    /// for it is the append and the commit, not the whole transaction.
    private static func lock(_ tx: PostgresTransaction) async throws -> (Int64, String) {
        guard let head = try await tx.row("SELECT seq, hash FROM event_head WHERE id = 1 FOR UPDATE") else {
            throw LedgerError.storage("the event log has no head row: the schema is incomplete")
        }
        return try head.decode((Int64, String).self)
    }

    /// Appends one event holding `images`.
    static func append(
        _ tx: PostgresTransaction, kind: LedgerEventKind, actor: String, at: Date, images: [RowImage]
    ) async throws {
        var json = CanonicalJSON(reservingCapacity: images.count * 480)
        for image in images { json.append(image) }
        try await append(tx, kind: kind, actor: actor, at: at, json: json)
    }
}
