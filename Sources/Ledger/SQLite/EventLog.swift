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

    /// Appends one event holding `images`, then the images already `encoded` (comma-separated JSON objects in the
    /// canonical form), then `rows`, chained to the current head. Call inside the write transaction that made the
    /// changes. Nothing is appended when nothing changed.
    static func append(
        _ db: Database, kind: LedgerEventKind, actor: String, at: Date, images: [RowImage] = [],
        encoded: [UInt8] = [], rows: ReturnedRows? = nil
    ) throws {
        let returned = rows?.count ?? 0
        guard !images.isEmpty || !encoded.isEmpty || returned > 0 else { return }
        var payload: [UInt8] = [UInt8(ascii: "[")]
        payload.reserveCapacity(images.count * 480 + encoded.count + (rows?.json.count ?? 0) + 3)
        appendObjects(images, to: &payload)
        for part in [encoded, rows?.json ?? []] where !part.isEmpty {
            if payload.count > 1 { payload.append(UInt8(ascii: ",")) }
            payload.append(contentsOf: part)
        }
        payload.append(UInt8(ascii: "]"))
        // Cached statements: a busy dispatcher appends two events per transaction.
        let headStatement = try db.cachedStatement(sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        var head = ReturnedRows(of: headStatement, table: "events", keep: ["seq", "hash"])
        try head.run(headStatement, arguments: [])
        let seq: Int64 = (head.count > 0 ? head.value(0, 0) ?? 0 : 0) + 1
        let prevHash = head.count > 0 ? head.value(0, 1) ?? "" : LedgerEvent.genesisHash
        let millis = at.ledgerMillis
        // The payload goes from its bytes to the hash and to SQLite as they are: it is valid UTF-8 by construction
        // (Swift strings and text SQLite returned), and making a `String` of a plan chunk would validate it again.
        try payload.withUnsafeBufferPointer { bytes in
            let hash = hash(
                prevHash: prevHash, seq: seq, at: millis, kind: kind.rawValue, actor: actor, payload: bytes)
            let insert = try RawStatement(
                cachedIn: db,
                sql: "INSERT INTO events (seq, at, kind, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            try insert.bind(seq)
            try insert.bind(millis)
            try insert.bind(kind.rawValue)
            try insert.bind(actor)
            try insert.bind(borrowing: bytes)
            try insert.bind(prevHash)
            try insert.bind(hash)
            try insert.run()
        }
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

    /// Canonical JSON for row images: `[{"row":{…keys sorted…},"table":"…"}, …]` (`"set"` instead of `"row"` for
    /// a change), no spaces, strings escaped
    /// minimally (quote, backslash, control characters), other characters as UTF-8. Written by hand because it runs
    /// for every row of every claim and outcome batch; `JSONDecoder` reads it back in `verify`. ``ReturnedRows``
    /// writes the same form straight from SQLite.
    static func encode(_ images: [RowImage]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(images.count * 480 + 2)
        appendObjects(images, to: &out)
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The images as comma-separated JSON objects.
    private static func appendObjects(_ images: [RowImage], to out: inout [UInt8]) {
        for (index, image) in images.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: image.isChange ? #"{"set":{"#.utf8 : #"{"row":{"#.utf8)
            for (position, column) in image.columns.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                appendString(column, to: &out)
                out.append(UInt8(ascii: ":"))
                appendValue(image.values[position], to: &out)
            }
            out.append(contentsOf: #"},"table":"#.utf8)
            appendString(image.table, to: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// One value as JSON.
    static func appendValue(_ value: LedgerValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .integer(let number): appendInteger(number, to: &out)
        case .real(let number):
            // JSON has no NaN or infinity; the ledger stores no REAL, so this only guards an edited file.
            out.append(contentsOf: (number.isFinite ? String(number) : "null").utf8)
        case .text(let text): appendString(text, to: &out)
        }
    }

    /// Decimal digits of `number`, as `String(number)` writes them, without making a string.
    static func appendInteger(_ number: Int64, to out: inout [UInt8]) {
        if number < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var count = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        // Room first, then the digits from the last one back: no reversal, no per-digit growth check.
        let end = out.count + count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        out.withUnsafeMutableBufferPointer { buffer in
            var index = end - 1
            repeat {
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                index -= 1
            } while magnitude > 0
        }
    }

    /// A JSON string literal.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString($0, to: &out) }
    }

    /// A JSON string literal of SQLite text as GRDB reads it back (`String(cString:)`): up to its first NUL.
    static func appendText(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        appendString(UnsafeBufferPointer(rebasing: bytes[..<(bytes.firstIndex(of: 0) ?? bytes.count)]), to: &out)
    }

    /// A JSON string literal of UTF-8 bytes.
    static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escaping: copy it whole.
        if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in bytes {
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
