import Foundation
import GRDB
import GridcastCore

/// The SQLite store's event table and appends: the head is the last row, read inside the write transaction that
/// SQLite's write lock already serializes.
extension EventLog {
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
}
