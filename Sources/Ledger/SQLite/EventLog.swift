import Crypto
import Foundation
import GRDB
import GridcastCore

/// The hash-chained event log: every change to ledger rows is appended, in the transaction that makes it, as the
/// rows' full contents afterwards or, for claims and outcomes, the columns the change set. Replaying the log
/// rebuilds every table; the chain makes any edit, deletion, reordering or truncation of the log itself show.
enum EventLog {
    static let createTable = """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY NOT NULL,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """

    /// Appends one event holding `images`, chained to the current head. Call inside the write transaction that
    /// made the changes. Nothing is appended when nothing changed.
    static func append(
        _ db: Database, kind: LedgerEventKind, actor: String, at: Date, images: [RowImage]
    ) throws {
        var json = CanonicalJSON(reservingCapacity: images.count * 480)
        for image in images { json.append(image) }
        try append(db, kind: kind, actor: actor, at: at, json: json)
    }

    /// Appends one event holding the images written in `json`, chained to the current head. Call inside the write
    /// transaction that made the changes. Nothing is appended when nothing changed.
    static func append(_ db: Database, kind: LedgerEventKind, actor: String, at: Date, json: CanonicalJSON) throws {
        guard !json.isEmpty else { return }
        var payload = json.array
        // Cached statements: a busy dispatcher appends two events per transaction.
        let head = try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (head.map { $0[0] as Int64 } ?? 0) + 1
        let prevHash: String = head.map { $0[1] } ?? LedgerEvent.genesisHash
        let millis = at.ledgerMillis
        let hash = payload.withUTF8 { bytes in
            Self.hash(prevHash: prevHash, seq: seq, at: millis, kind: kind.rawValue, actor: actor, payload: bytes)
        }
        let insert = try db.cachedStatement(
            sql: "INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
        insert.setUncheckedArguments([seq, millis, kind.rawValue, actor, payload, prevHash, hash])
        try insert.execute()
    }

    /// The images of every row of `table` matching `condition`.
    static func images(
        _ db: Database, table: String, where condition: String = "1 = 1",
        arguments: StatementArguments = []
    ) throws -> [RowImage] {
        var builder = RowImageBuilder(table: table)
        return builder.images(
            of: try Row.fetchAll(
                db, sql: "SELECT * FROM \(table) WHERE \(condition) ORDER BY rowid", arguments: arguments))
    }

    /// SHA-256 over the previous hash and every other field, each length-prefixed so no two events encode alike.
    static func hash(of event: LedgerEvent) -> String {
        var payload = event.payload
        // Hash the string's own UTF-8 storage: the payload of a plan can be megabytes.
        return payload.withUTF8 { bytes in
            hash(
                prevHash: event.prevHash, seq: event.seq, at: event.at, kind: event.kind, actor: event.actor,
                payload: bytes)
        }
    }

    /// The hash of an event with these fields, the payload as its UTF-8 bytes.
    static func hash(
        prevHash: String, seq: Int64, at: Int64, kind: String, actor: String, payload: UnsafeBufferPointer<UInt8>
    ) -> String {
        var hasher = SHA256()
        func field(_ bytes: UnsafeBufferPointer<UInt8>) {
            hasher.update(data: Array("\(bytes.count):".utf8))
            hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
        }
        for var text in ["gridcast-event-v1", prevHash, String(seq), String(at), kind, actor] {
            text.withUTF8(field)
        }
        field(payload)
        return Hex.encode(hasher.finalize())
    }

    /// The images as the canonical JSON array an event's payload holds (``CanonicalJSON``).
    static func encode(_ images: [RowImage]) -> String {
        CanonicalJSON.array(images)
    }

    /// The images an event's payload holds.
    static func decode(_ payload: String) throws -> [RowImage] {
        try JSONDecoder().decode([RowImage].self, from: Data(payload.utf8))
    }
}
