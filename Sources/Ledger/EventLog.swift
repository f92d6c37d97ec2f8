import Crypto
import Foundation
import GRDB
import GridcastCore

/// The hash-chained event log: every change to ledger rows is appended, in the transaction that makes it, as the
/// rows' full contents afterwards. Replaying the log rebuilds every table; the chain makes any edit, deletion,
/// reordering or truncation of the log itself show.
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

    /// Appends one event holding `images`, chained to the current head. Call inside the write transaction that made
    /// the changes. Nothing is appended when nothing changed.
    static func append(
        _ db: Database, kind: LedgerEventKind, actor: String, at: Date, images: [RowImage]
    ) throws {
        guard !images.isEmpty else { return }
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        var event = LedgerEvent(
            seq: (head?["seq"] as Int64? ?? 0) + 1, at: at.ledgerMillis, kind: kind.rawValue, actor: actor,
            payload: try encode(images), prevHash: head?["hash"] ?? LedgerEvent.genesisHash, hash: ""
        )
        event.hash = hash(of: event)
        try db.execute(
            sql: "INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [event.seq, event.at, event.kind, event.actor, event.payload, event.prevHash, event.hash]
        )
    }

    /// The images of every row of `table` matching `condition`.
    static func images(_ db: Database, table: String, where condition: String = "1 = 1",
                       arguments: StatementArguments = []) throws -> [RowImage] {
        try Row.fetchAll(db, sql: "SELECT * FROM \(table) WHERE \(condition) ORDER BY rowid", arguments: arguments)
            .map { RowImage(table: table, row: $0) }
    }

    /// SHA-256 over the previous hash and every other field, each length-prefixed so no two events encode alike.
    static func hash(of event: LedgerEvent) -> String {
        var hasher = SHA256()
        for field in [
            "gridcast-event-v1", event.prevHash, String(event.seq), String(event.at), event.kind, event.actor,
            event.payload,
        ] {
            let bytes = Array(field.utf8)
            hasher.update(data: Array("\(bytes.count):".utf8))
            hasher.update(data: bytes)
        }
        return Hex.encode(hasher.finalize())
    }

    static func encode(_ images: [RowImage]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(images), as: UTF8.self)
    }

    static func decode(_ payload: String) throws -> [RowImage] {
        try JSONDecoder().decode([RowImage].self, from: Data(payload.utf8))
    }
}
