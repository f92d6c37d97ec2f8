import Foundation
import PostgresNIO

/// The PostgreSQL store's appends. Instances write at once, so the head of the chain is a row of its own
/// (`event_head`), locked by each append until its transaction commits: appends take their turn and the log stays
/// one linear chain, whichever instance writes.
extension EventLog {
    /// Appends one event holding the images written in `json`, chained to the current head, inside the caller's
    /// transaction. Nothing is appended when nothing changed.
    static func append(
        _ tx: PostgresTransaction, kind: LedgerEventKind, actor: String, at: Date, json: CanonicalJSON
    ) async throws {
        guard !json.isEmpty else { return }
        var payload = json.array
        guard let head = try await tx.row("SELECT seq, hash FROM event_head WHERE id = 1 FOR UPDATE") else {
            throw LedgerError.storage("the event log has no head row: the schema is incomplete")
        }
        let (last, prevHash) = try head.decode((Int64, String).self)
        let seq = last + 1
        let millis = at.ledgerMillis
        let hash = payload.withUTF8 { bytes in
            Self.hash(prevHash: prevHash, seq: seq, at: millis, kind: kind.rawValue, actor: actor, payload: bytes)
        }
        try await tx.rows(
            """
            WITH appended AS (
                INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash)
                VALUES (\(seq), \(millis), \(kind.rawValue), \(actor), \(payload), \(prevHash), \(hash)))
            UPDATE event_head SET seq = \(seq), hash = \(hash) WHERE id = 1
            """)
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
