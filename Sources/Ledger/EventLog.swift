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
            payload: encode(images), prevHash: head?["hash"] ?? LedgerEvent.genesisHash, hash: ""
        )
        event.hash = hash(of: event)
        try db.execute(
            sql: "INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [event.seq, event.at, event.kind, event.actor, event.payload, event.prevHash, event.hash]
        )
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

    /// Canonical JSON for row images: `[{"row":{…keys sorted…},"table":"…"}, …]`, no spaces, strings escaped
    /// minimally (quote, backslash, control characters), other characters as UTF-8. Written by hand because it runs
    /// for every row of every claim and outcome batch; `JSONDecoder` reads it back in `verify`.
    static func encode(_ images: [RowImage]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(images.count * 400)
        out.append(UInt8(ascii: "["))
        for (index, image) in images.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"row":{"#.utf8)
            for (position, column) in image.columns.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                appendString(column, to: &out)
                out.append(UInt8(ascii: ":"))
                switch image.values[position] {
                case .null: out.append(contentsOf: "null".utf8)
                case .integer(let number): out.append(contentsOf: String(number).utf8)
                case .real(let number):
                    // JSON has no NaN or infinity; the ledger stores no REAL, so this only guards an edited file.
                    out.append(contentsOf: (number.isFinite ? String(number) : "null").utf8)
                case .text(let text): appendString(text, to: &out)
                }
            }
            out.append(contentsOf: #"},"table":"#.utf8)
            appendString(image.table, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escaping: copy it whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xf)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func decode(_ payload: String) throws -> [RowImage] {
        try JSONDecoder().decode([RowImage].self, from: Data(payload.utf8))
    }
}
