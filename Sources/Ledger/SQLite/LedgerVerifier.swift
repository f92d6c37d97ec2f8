import Crypto
import Foundation
import GRDB
import GridcastCore

/// What `gridcast ledger verify` found.
public enum LedgerVerification: Sendable, Equatable {
    /// The chain is whole and replaying it gives exactly the current rows.
    case ok(events: Int64, head: LedgerCheckpoint)
    /// The first discrepancy found, in words that say where.
    case failed(String)
}

/// Recomputes the event chain, replays it, and compares the result with every row of every ledger table.
///
/// Any single edited field shows: in `events` the chain breaks (hash, prev_hash or sequence); in the other tables
/// the row no longer equals its last recorded image; a deleted row or event and an added one show the same way.
/// A checkpoint (`SEQ:HASH`, logged by the daemon) proves the log still extends what it was then, which catches
/// truncation and a rewrite of the whole file.
struct LedgerVerifier {
    /// The migrations a ledger of this version has applied.
    var migrations: [String]

    func verify(_ db: Database, checkpoint: LedgerCheckpoint?) throws -> LedgerVerification {
        // The schema first: a trigger, view, index or table added (or dropped) outside gridcast changes no row the
        // event log describes, and the row checks below read the tables by name.
        if try db.tableExists("grdb_migrations") {
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            guard applied == migrations.sorted() else {
                return .failed("grdb_migrations lists \(applied) but this ledger version has \(migrations.sorted())")
            }
        }
        if let problem = try Self.schemaProblem(db) {
            return .failed(problem)
        }
        return try verifyHistory(db, checkpoint: checkpoint)
    }

    /// The chain, the replay and the comparison with every row, without the schema checks of ``verify``.
    func verifyHistory(_ db: Database, checkpoint: LedgerCheckpoint?) throws -> LedgerVerification {
        var replay: [String: [String: (image: RowImage, seq: Int64)]] = [:]
        var expectedSeq: Int64 = 1
        var previous = LedgerEvent.genesisHash
        var checkpointSeen = checkpoint == nil || checkpoint?.seq == 0
        let events = try Row.fetchCursor(
            db, sql: "SELECT seq, at, kind, actor, payload, prev_hash, hash FROM events ORDER BY seq")
        while let row = try events.next() {
            let event = LedgerEvent(
                seq: row["seq"], at: row["at"], kind: row["kind"], actor: row["actor"], payload: row["payload"],
                prevHash: row["prev_hash"], hash: row["hash"]
            )
            guard event.seq == expectedSeq else {
                return .failed(
                    event.seq > expectedSeq
                        ? "event \(expectedSeq) is missing: the sequence jumps from \(expectedSeq - 1) to \(event.seq)"
                        : "event \(event.seq) is out of order after event \(expectedSeq - 1)")
            }
            guard event.prevHash == previous else {
                return .failed("event \(event.seq): prev_hash does not match the hash of event \(event.seq - 1)")
            }
            guard EventLog.hash(of: event) == event.hash else {
                return .failed("event \(event.seq) (\(event.kind)): its contents do not match its hash")
            }
            guard LedgerEventKind(rawValue: event.kind) != nil else {
                return .failed("event \(event.seq): unknown kind '\(event.kind)'")
            }
            if let checkpoint, checkpoint.seq == event.seq {
                guard checkpoint.hash == event.hash else {
                    return .failed(
                        "checkpoint \(checkpoint): event \(event.seq) now has hash \(event.hash); "
                            + "the ledger was rewritten since the checkpoint")
                }
                checkpointSeen = true
            }
            let images: [RowImage]
            do {
                images = try EventLog.decode(event.payload)
            } catch {
                return .failed("event \(event.seq): unreadable payload")
            }
            for var image in images {
                guard let key = image.key else {
                    return .failed("event \(event.seq): a row of unknown table '\(image.table)' or without its key")
                }
                if image.isChange {
                    // Only the columns set: the rest are as the row's previous image recorded them.
                    guard let earlier = replay[image.table]?[key]?.image else {
                        return .failed(
                            "event \(event.seq): changes \(image.table) row \(Self.name(image, key: key)), "
                                + "which no earlier event made")
                    }
                    guard let merged = earlier.applying(image) else {
                        return .failed(
                            "event \(event.seq): sets a column \(image.table) row \(Self.name(earlier, key: key)) "
                                + "does not have")
                    }
                    image = merged
                }
                if let problem = Self.contentProblem(image) {
                    return .failed("event \(event.seq): \(problem)")
                }
                replay[image.table, default: [:]][key] = (image, event.seq)
            }
            previous = event.hash
            expectedSeq += 1
        }
        let count = expectedSeq - 1
        if !checkpointSeen, let checkpoint {
            return .failed(
                "checkpoint \(checkpoint): the event log ends at event \(count); the ledger was truncated or replaced")
        }
        for table in LedgerTables.primaryKeys.keys.sorted() {
            if let problem = try compare(db, table: table, with: replay[table] ?? [:]) {
                return .failed(problem)
            }
        }
        if let problem = try Self.posterProblem(db) {
            return .failed(problem)
        }
        return .ok(events: count, head: LedgerCheckpoint(seq: count, hash: previous))
    }

    /// The first stored poster whose bytes are not what its row says: their SHA-256 is not its key, or their length
    /// or signature not its size or format. The event chain covers the key, size and format; this binds the bytes.
    static func posterProblem(_ db: Database) throws -> String? {
        guard try db.tableExists("posters") else { return nil }
        let rows = try Row.fetchCursor(db, sql: "SELECT sha256, format, size, bytes FROM posters ORDER BY rowid")
        while let row = try rows.next() {
            let key: String = row["sha256"]
            let bytes = [UInt8]((row["bytes"] as Data?) ?? Data())
            let digest = Hex.encode(SHA256.hash(data: bytes))
            guard digest == key else {
                return "posters row \(key): its image bytes hash to \(digest); the poster was swapped or edited"
            }
            guard bytes.count == row["size"] as Int64,
                Poster.format(of: bytes)?.rawValue == row["format"] as String
            else { return "posters row \(key): its size or format does not match its image bytes" }
        }
        return nil
    }

    /// Compares a table's rows with their replayed images; the first difference, or nil.
    private func compare(
        _ db: Database, table: String, with replayed: [String: (image: RowImage, seq: Int64)]
    ) throws -> String? {
        var seen = Set<String>()
        let columns = LedgerTables.imageColumns[table] ?? "*"
        let rows = try Row.fetchCursor(db, sql: "SELECT \(columns) FROM \(table) ORDER BY rowid")
        var builder = RowImageBuilder(table: table)
        while let row = try rows.next() {
            let image = builder.image(of: row)
            guard let key = image.key else { return "\(table): a row without its key" }
            let name = Self.name(image, key: key)
            guard let recorded = replayed[key] else {
                return "\(table) row \(name) is not in the event log (added or edited outside gridcast)"
            }
            seen.insert(key)
            if image != recorded.image {
                let column =
                    Set(image.columns).union(recorded.image.columns).sorted().first { image[$0] != recorded.image[$0] }
                    ?? "(column order)"
                let now = image[column].map(\.description) ?? "absent"
                let then = recorded.image[column].map(\.description) ?? "absent"
                return "\(table) row \(name): \(column) is \(Self.clip(now)) but event \(recorded.seq) recorded "
                    + "\(Self.clip(then))"
            }
        }
        if let missing = replayed.keys.sorted().first(where: { !seen.contains($0) }), let entry = replayed[missing] {
            return "\(table) row \(Self.name(entry.image, key: missing)) is in the event log (event \(entry.seq)) "
                + "but no longer in the table"
        }
        return nil
    }

    /// A notice image whose content hash doesn't match its title, text, urgency, poster and card.
    static func contentProblem(_ image: RowImage) -> String? {
        guard image.table == "notices" else { return nil }
        guard case .text(let id) = image["id"], case .text(let title) = image["title"],
            case .text(let text) = image["text"], case .integer(let urgent) = image["urgent"],
            case .text(let hash) = image["content_hash"]
        else { return "notice row with missing or mistyped columns" }
        func column(_ name: String) -> String? {
            if case .text(let value) = image[name] { value } else { nil }
        }
        let expected = Notice.hash(
            title: title, text: text, urgent: urgent != 0,
            extra: Notice.contentFields(
                posterSHA256: column("poster_sha256"), posterURL: column("image_url"),
                link: column("link_url").map {
                    LinkCard(
                        url: $0, title: column("link_title") ?? "", description: column("link_description") ?? "",
                        pictureURL: column("link_picurl"))
                }))
        return expected == hash ? nil : "notice \(id): content_hash does not match its title, text, poster and card"
    }

    private static func name(_ image: RowImage, key: String) -> String {
        if image.table == "deliveries", case .text(let notice) = image["notice_id"],
            case .text(let group) = image["group_id"]
        {
            return "\(key.replacingOccurrences(of: "'", with: "")) (notice \(notice), group \(group))"
        }
        return key.replacingOccurrences(of: "\u{0}", with: " @ ").replacingOccurrences(of: "'", with: "")
    }

    /// The schema objects of `db` — tables, indexes, triggers, views — as `"type name"` and their SQL with runs of
    /// whitespace made one space. SQLite's own objects (`sqlite_…`, e.g. the automatic index of a primary key, which
    /// its table's SQL already implies) are left out.
    static func schema(_ db: Database) throws -> [String: String] {
        var objects: [String: String] = [:]
        let rows = try Row.fetchAll(
            db, sql: "SELECT type, name, sql FROM sqlite_master WHERE substr(name, 1, 7) != 'sqlite_'")
        for row in rows {
            let type: String = row["type"]
            let name: String = row["name"]
            let sql: String? = row["sql"]
            objects["\(type) \(name)"] = (sql ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        return objects
    }

    /// The schema of a ledger of this version: what the migrations make of an empty database.
    static func expectedSchema() throws -> [String: String] {
        let queue = try DatabaseQueue()
        try SQLiteLedgerStore.migrator.migrate(queue)
        return try queue.read(schema)
    }

    /// The first difference between `db`'s schema and a ledger's, or nil.
    static func schemaProblem(_ db: Database) throws -> String? {
        let found = try schema(db)
        let expected = try expectedSchema()
        if let added = found.keys.sorted().first(where: { expected[$0] == nil }) {
            return
                "schema: \(added) is not part of a gridcast ledger (added outside gridcast): \(clip(found[added] ?? ""))"
        }
        if let missing = expected.keys.sorted().first(where: { found[$0] == nil }) {
            return "schema: \(missing) is missing (dropped outside gridcast)"
        }
        if let changed = expected.keys.sorted().first(where: { found[$0] != expected[$0] }) {
            return "schema: \(changed) is not defined as gridcast defines it: \(clip(found[changed] ?? ""))"
        }
        return nil
    }

    /// Whether `error` says the file could not be opened or read at all — permissions, a read-only directory
    /// (SQLite can't add the `-shm` file a WAL ledger needs), a lock, I/O — rather than that it holds something
    /// other than a ledger.
    static func isAccessProblem(_ error: DatabaseError) -> Bool {
        [
            ResultCode.SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH, .SQLITE_BUSY, .SQLITE_LOCKED,
            .SQLITE_IOERR, .SQLITE_NOMEM, .SQLITE_NOLFS,
        ].contains(error.resultCode.primaryResultCode)
    }

    private static func clip(_ text: String) -> String {
        text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
