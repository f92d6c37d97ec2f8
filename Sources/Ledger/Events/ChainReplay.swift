import Crypto
import Foundation
import GridcastCore

/// Replays the event chain as a store reads it out, event by event, checking each link; then compares each table's
/// rows, as the store reads them, with their last recorded images. Every store's `verify` drives one when its fast
/// check (``ChainDigest``) finds something wrong, to name the first discrepancy, so a verification means the same on
/// each (`docs/ledger.md`, "Verifying the ledger").
///
/// Any single edited field shows: in `events` the chain breaks (hash, prev_hash or sequence); in the other tables
/// the row no longer equals its last recorded image; a deleted row or event and an added one show the same way.
/// A checkpoint (`SEQ:HASH`, logged by the daemon) proves the log still extends what it was then, which catches
/// truncation and a rewrite of the whole log.
struct ChainReplay {
    /// The last image of every row, with the event that recorded it.
    private var replay: [String: [String: (image: RowImage, seq: Int64)]] = [:]
    private var expectedSeq: Int64 = 1
    private var previous = LedgerEvent.genesisHash
    private let checkpoint: LedgerCheckpoint?
    private var checkpointSeen: Bool

    init(checkpoint: LedgerCheckpoint?) {
        self.checkpoint = checkpoint
        checkpointSeen = checkpoint == nil || checkpoint?.seq == 0
    }

    /// Events replayed.
    var count: Int64 { expectedSeq - 1 }

    /// The last replayed event's sequence number and hash.
    var head: LedgerCheckpoint { LedgerCheckpoint(seq: count, hash: previous) }

    /// Checks `event` against the chain so far and replays it; the first problem, in words that say where.
    mutating func add(_ event: LedgerEvent) -> String? {
        guard event.seq == expectedSeq else {
            return event.seq > expectedSeq
                ? "event \(expectedSeq) is missing: the sequence jumps from \(expectedSeq - 1) to \(event.seq)"
                : "event \(event.seq) is out of order after event \(expectedSeq - 1)"
        }
        guard event.prevHash == previous else {
            return "event \(event.seq): prev_hash does not match the hash of event \(event.seq - 1)"
        }
        guard EventLog.hash(of: event) == event.hash else {
            return "event \(event.seq) (\(event.kind)): its contents do not match its hash"
        }
        guard LedgerEventKind(rawValue: event.kind) != nil else {
            return "event \(event.seq): unknown kind '\(event.kind)'"
        }
        if let checkpoint, checkpoint.seq == event.seq {
            guard checkpoint.hash == event.hash else {
                return "checkpoint \(checkpoint): event \(event.seq) now has hash \(event.hash); "
                    + "the ledger was rewritten since the checkpoint"
            }
            checkpointSeen = true
        }
        let images: [RowImage]
        do {
            images = try EventLog.decode(event.payload)
        } catch {
            return "event \(event.seq): unreadable payload"
        }
        for var image in images {
            guard let key = image.key else {
                return "event \(event.seq): a row of unknown table '\(image.table)' or without its key"
            }
            if image.isChange {
                // Only the columns set: the rest are as the row's previous image recorded them.
                guard let earlier = replay[image.table]?[key]?.image else {
                    return "event \(event.seq): changes \(image.table) row \(Self.name(image, key: key)), "
                        + "which no earlier event made"
                }
                guard let merged = earlier.applying(image) else {
                    return "event \(event.seq): sets a column \(image.table) row \(Self.name(earlier, key: key)) "
                        + "does not have"
                }
                image = merged
            }
            if let problem = Self.contentProblem(image) {
                return "event \(event.seq): \(problem)"
            }
            replay[image.table, default: [:]][key] = (image, event.seq)
        }
        previous = event.hash
        expectedSeq += 1
        return nil
    }

    /// After the last event: whether the checkpoint, if any, was met.
    func finish() -> String? {
        guard !checkpointSeen, let checkpoint else { return nil }
        return "checkpoint \(checkpoint): the event log ends at event \(count); the ledger was truncated or replaced"
    }

    /// A comparison of `table`'s rows with their replayed images.
    func comparison(of table: String) -> TableComparison {
        TableComparison(table: table, replayed: replay[table] ?? [:])
    }

    /// One table's rows, checked one by one against their replayed images.
    struct TableComparison {
        let table: String
        let replayed: [String: (image: RowImage, seq: Int64)]
        private var seen = Set<String>()

        init(table: String, replayed: [String: (image: RowImage, seq: Int64)]) {
            self.table = table
            self.replayed = replayed
        }

        /// The difference between a row (as its full image) and its last recorded image, or nil.
        mutating func check(_ image: RowImage) -> String? {
            guard let key = image.key else { return "\(table): a row without its key" }
            let name = ChainReplay.name(image, key: key)
            guard let recorded = replayed[key] else {
                return "\(table) row \(name) is not in the event log (added or edited outside gridcast)"
            }
            seen.insert(key)
            guard image != recorded.image else { return nil }
            let column =
                Set(image.columns).union(recorded.image.columns).sorted().first { image[$0] != recorded.image[$0] }
                ?? "(column order)"
            let now = image[column].map(\.description) ?? "absent"
            let then = recorded.image[column].map(\.description) ?? "absent"
            return "\(table) row \(name): \(column) is \(ChainReplay.clip(now)) but event \(recorded.seq) recorded "
                + "\(ChainReplay.clip(then))"
        }

        /// After the table's last row: a recorded row that is no longer there, or nil.
        func finish() -> String? {
            guard let missing = replayed.keys.sorted().first(where: { !seen.contains($0) }),
                let entry = replayed[missing]
            else { return nil }
            return "\(table) row \(ChainReplay.name(entry.image, key: missing)) is in the event log (event "
                + "\(entry.seq)) but no longer in the table"
        }
    }

    /// A stored poster whose bytes are not what its row says: their SHA-256 is not its key, or their length or
    /// signature not its size or format. The event chain covers the key, size and format; this binds the bytes.
    static func posterProblem(sha256 key: String, format: String, size: Int64, bytes: [UInt8]) -> String? {
        let digest = Hex.encode(SHA256.hash(data: bytes))
        guard digest == key else {
            return "posters row \(key): its image bytes hash to \(digest); the poster was swapped or edited"
        }
        guard bytes.count == size, Poster.format(of: bytes)?.rawValue == format else {
            return "posters row \(key): its size or format does not match its image bytes"
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

    static func clip(_ text: String) -> String {
        text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
