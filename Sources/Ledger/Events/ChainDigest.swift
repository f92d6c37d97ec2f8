import Crypto
import Foundation

/// The fast check behind `gridcast ledger verify`: the same question as ``ChainReplay`` — is the chain whole, and
/// does replaying it give exactly the rows? — answered in memory that holds no row images, so a year of deliveries
/// verifies on a small server (`docs/ledger.md`, "Verifying the ledger").
///
/// The events are read newest first. The first time a row's column is met that way, its value is the one replay
/// would leave; every such (table, key, column, value) is hashed with a key drawn for this run and the hashes added
/// up modulo 2²⁵⁶. Every column of every current row is hashed and added the same way. The two sums are equal, and
/// each table has as many rows as the events made, exactly when the final images are the rows (but for a chance of
/// 2⁻²⁵⁶ per forgery, and an edit can't be fitted to a key it never sees). What it keeps per row is 12 bytes: the
/// row's key hashed to 64 bits and which columns have been met. It says only whether the ledger is consistent:
/// anything else — a discrepancy, or a payload not in the canonical form — sends `verify` to ``ChainReplay``,
/// which names the first problem.
struct ChainDigest {
    /// The newest event: the chain's head.
    private(set) var head = LedgerCheckpoint(seq: 0, hash: LedgerEvent.genesisHash)
    /// False once anything disagreed or could not be read the fast way.
    private(set) var consistent = true
    private let checkpoint: LedgerCheckpoint?
    private var checkpointSeen: Bool
    /// The sequence number and hash the next (older) event must have.
    private var expected: (seq: Int64, hash: String)?
    private var events = Sum256()
    private var rows = Sum256()
    private var cells: CellHasher
    private let seed = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
    /// Per row (its key hashed to 64 bits): the columns met so far, as ``RowState``.
    private var states: RowStateTable
    /// Per table: each column name's bit.
    private var columnBits: [String: [String: Int]] = [:]
    /// Per table: rows the events made, and rows found.
    private var made: [String: Int] = [:]
    private var found: [String: Int] = [:]

    /// A check expecting about `rows` rows in all (its table is sized once).
    init(checkpoint: LedgerCheckpoint?, rows: Int) {
        self.checkpoint = checkpoint
        checkpointSeen = checkpoint == nil || checkpoint?.seq == 0
        states = RowStateTable(expected: rows)
        cells = CellHasher()
    }

    /// Takes the next older event; its payload as the UTF-8 bytes of its canonical JSON.
    mutating func add(
        seq: Int64, at: Int64, kind: String, actor: String, prevHash: String, hash: String,
        payload: UnsafeBufferPointer<UInt8>
    ) {
        guard consistent else { return }
        if let expected {
            guard seq == expected.seq, hash == expected.hash else { return fail() }
        } else {
            head = LedgerCheckpoint(seq: seq, hash: hash)
        }
        guard seq >= 1, LedgerEventKind(rawValue: kind) != nil,
            EventLog.hash(prevHash: prevHash, seq: seq, at: at, kind: kind, actor: actor, payload: payload) == hash
        else { return fail() }
        if let checkpoint, checkpoint.seq == seq {
            guard checkpoint.hash == hash else { return fail() }
            checkpointSeen = true
        }
        expected = (seq - 1, prevHash)
        guard let starts = PayloadReader.starts(in: payload) else { return fail() }
        for start in starts.reversed() {
            guard let image = PayloadReader.image(in: payload, at: start) else { return fail() }
            take(image)
            guard consistent else { return }
        }
    }

    /// Takes one current row of a table, as its full image.
    mutating func add(row image: RowImage) {
        guard consistent, let key = image.key else { return fail() }
        found[image.table, default: 0] += 1
        for (column, value) in zip(image.columns, image.values) {
            rows.add(cells.hash(table: image.table, key: key, column: column, value: value))
        }
    }

    /// After every event and row: the head when the ledger is consistent, nil when ``ChainReplay`` must look.
    func finish() -> LedgerCheckpoint? {
        guard consistent, checkpointSeen, events == rows, made == found else { return nil }
        // The oldest event read must be the first, chained from nothing.
        if let expected, expected != (0, LedgerEvent.genesisHash) { return nil }
        guard states.states.allSatisfy({ RowState(bits: $0).isWhole }) else { return nil }
        return head
    }

    private mutating func fail() {
        consistent = false
    }

    private mutating func take(_ image: RowImage) {
        guard let key = image.key,
            // Notices are checked against their content hash as a whole, which a change image would need replay for.
            !(image.isChange && image.table == "notices")
        else { return fail() }
        var bits: [UInt32] = []
        bits.reserveCapacity(image.columns.count)
        var tableBits = columnBits[image.table] ?? [:]
        for column in image.columns {
            var bit = tableBits[column]
            if bit == nil {
                guard tableBits.count < 31 else { return fail() }
                bit = tableBits.count
                tableBits[column] = bit
                columnBits[image.table] = tableBits
            }
            bits.append(1 << UInt32(bit!))
        }
        let mask = bits.reduce(0, |)
        let row = rowHash(image.table, key)
        var state = RowState(bits: states[row, default: 0])
        if !state.isFinal {
            // Columns not met yet (in a newer event) hold this image's values after replay.
            for ((column, value), bit) in zip(zip(image.columns, image.values), bits) where state.columns & bit == 0 {
                events.add(cells.hash(table: image.table, key: key, column: column, value: value))
            }
        }
        if image.isChange {
            state.columns |= mask
        } else {
            // A full image: every newer change (up to the next newer full image) must set a column it has.
            guard state.columns & ~mask == 0 else { return fail() }
            if !state.isFinal {
                state.isFinal = true
                made[image.table, default: 0] += 1
                if ChainReplay.contentProblem(image) != nil { return fail() }
            }
            state.columns = 0
        }
        states[row, default: 0] = state.bits
    }

    private func rowHash(_ table: String, _ key: String) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(seed.0)
        hasher.combine(seed.1)
        hasher.combine(table)
        hasher.combine(key)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// What the newest-first reading knows of one row, in four bytes.
    private struct RowState {
        var bits: UInt32

        /// Until a full image is read: the columns newer changes set, whose values are already counted. After:
        /// the columns changed since the oldest full image read so far, which an older one must have.
        var columns: UInt32 {
            get { bits & ~Self.final }
            set { bits = bits & Self.final | newValue }
        }

        /// A full image was read: the row's final contents are all counted.
        var isFinal: Bool {
            get { bits & Self.final != 0 }
            set { bits = newValue ? bits | Self.final : bits & ~Self.final }
        }

        /// Made by a full image, and no change is left without one before it.
        var isWhole: Bool { bits == Self.final }

        private static let final: UInt32 = 1 << 31
    }
}

/// Hashes one cell — table, key, column, typed value — with a key drawn at random for one verification.
struct CellHasher {
    private let keyed: SHA256

    init() {
        var hasher = SHA256()
        hasher.update(data: (0..<64).map { _ in UInt8.random(in: .min ... .max) })
        keyed = hasher
    }

    /// The cell's fields, written length-prefixed one after another so no two cells write alike; kept between cells.
    private var message: [UInt8] = []

    mutating func hash(table: String, key: String, column: String, value: LedgerValue) -> Sum256 {
        message.removeAll(keepingCapacity: true)
        field(table)
        field(key)
        field(column)
        switch value {
        case .null: tagged(0, 0)
        case .integer(let number): tagged(1, UInt64(bitPattern: number))
        case .real(let number): tagged(2, number.bitPattern)
        case .text(let text):
            tagged(3, 0)
            field(text)
        }
        var hasher = keyed
        message.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize().withUnsafeBytes { Sum256(bytes: $0) }
    }

    /// The text's length (four bytes), then its UTF-8 bytes.
    private mutating func field(_ text: String) {
        let utf8 = text.utf8
        let length = UInt32(utf8.count)
        for shift in stride(from: 0, to: 32, by: 8) { message.append(UInt8(truncatingIfNeeded: length >> shift)) }
        message.append(contentsOf: utf8)
    }

    /// A type tag and eight bytes: the value of an integer or real, zeros otherwise.
    private mutating func tagged(_ tag: UInt8, _ bits: UInt64) {
        message.append(tag)
        for shift in stride(from: 0, to: 64, by: 8) { message.append(UInt8(truncatingIfNeeded: bits >> shift)) }
    }
}

/// A 256-bit number, added modulo 2²⁵⁶.
struct Sum256: Equatable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    init(bytes: UnsafeRawBufferPointer) {
        words = (
            bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    mutating func add(_ other: Sum256) {
        var carry = false
        words.0 = Self.add(words.0, other.words.0, carry: &carry)
        words.1 = Self.add(words.1, other.words.1, carry: &carry)
        words.2 = Self.add(words.2, other.words.2, carry: &carry)
        words.3 = Self.add(words.3, other.words.3, carry: &carry)
    }

    private static func add(_ a: UInt64, _ b: UInt64, carry: inout Bool) -> UInt64 {
        let (partial, first) = a.addingReportingOverflow(b)
        let (sum, second) = partial.addingReportingOverflow(carry ? 1 : 0)
        carry = first || second
        return sum
    }

    static func == (lhs: Sum256, rhs: Sum256) -> Bool {
        lhs.words == rhs.words
    }
}
