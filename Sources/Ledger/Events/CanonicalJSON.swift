/// The event log's canonical JSON of row images, written in one place: how a value is written, how a string is
/// escaped, in which order a row's keys go. Every event's payload is made here, and `gridcast ledger verify` checks the
/// rows against images read back with ``EventLog/decode(_:)`` in the same key order.
///
/// The form: `{"row":{…},"table":"…"}` for a full row, `{"set":{…},"table":"…"}` for the columns a change set
/// (with the row's key); keys sorted by their UTF-8 bytes; no spaces; strings escaped minimally (quote, backslash,
/// control characters as `\u00XX`), every other character as its UTF-8; text up to its first NUL, as SQLite text
/// reads back; integers in decimal; reals as Swift prints them (non-finite ones as `null`); NULL as `null`.
struct CanonicalJSON {
    /// `[` and the images written so far, comma-separated.
    private var buffer: [UInt8] = [UInt8(ascii: "[")]

    init(reservingCapacity capacity: Int = 0) {
        buffer.reserveCapacity(capacity + 2)
    }

    /// Whether nothing was written.
    var isEmpty: Bool { buffer.count == 1 }

    /// The images written so far, comma-separated; indexed as ``append(_:)`` reports.
    var written: ArraySlice<UInt8> { buffer[1...] }

    /// The JSON array of the images written: an event's payload.
    var array: String {
        var bytes = buffer
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `image` after the ones written so far; returns where its bytes are in ``written``.
    @discardableResult
    mutating func append(_ image: RowImage) -> Range<Int> {
        append(Layout(table: image.table, columns: image.columns, isChange: image.isChange), values: image.values)
    }

    /// Appends the image of a row of `layout`'s shape holding `values` (in the order of the layout's `names`);
    /// returns where its bytes are in ``written``.
    @discardableResult
    mutating func append(_ layout: Layout, values: [LedgerValue]) -> Range<Int> {
        precondition(values.count == layout.order.count, "one value for each column")
        if !isEmpty { buffer.append(UInt8(ascii: ",")) }
        let start = buffer.count
        for (key, index) in zip(layout.keys, layout.order) {
            buffer.append(contentsOf: key)
            Self.appendValue(values[index], to: &buffer)
        }
        buffer.append(contentsOf: layout.end)
        return start..<buffer.count
    }

    /// The shape of a set of images — table, full row or change, columns — with everything but their values
    /// written once: each column's key in canonical order.
    struct Layout: Sendable {
        /// The column names in the order the values come in.
        let names: [String]
        /// The canonical order: positions in ``names``.
        let order: [Int]
        /// The opening and each key in canonical order: `{"row":{"a":`, then `,"b":`, …
        fileprivate let keys: [[UInt8]]
        /// `},"table":"…"}`.
        fileprivate let end: [UInt8]

        /// The layout of images of `table` holding `columns` (values in that order); a change when `isChange`.
        init(table: String, columns: [String], isChange: Bool = false) {
            names = columns
            order = CanonicalJSON.order(of: columns)
            keys = order.enumerated().map { position, index in
                var key = Array((position > 0 ? "," : isChange ? #"{"set":{"# : #"{"row":{"#).utf8)
                CanonicalJSON.appendString(columns[index], to: &key)
                key.append(UInt8(ascii: ":"))
                return key
            }
            var end = Array(#"},"table":"#.utf8)
            CanonicalJSON.appendString(table, to: &end)
            end.append(UInt8(ascii: "}"))
            // No column: the opening comes before the end.
            self.end = (keys.isEmpty ? Array((isChange ? #"{"set":{"# : #"{"row":{"#).utf8) : []) + end
        }
    }

    /// Appends images as another ``CanonicalJSON`` wrote them (its ``written`` bytes, or a part of them).
    mutating func append(written images: ArraySlice<UInt8>) {
        guard !images.isEmpty else { return }
        if !isEmpty { buffer.append(UInt8(ascii: ",")) }
        buffer.append(contentsOf: images)
    }

    /// `images` as a JSON array.
    static func array(_ images: [RowImage]) -> String {
        var json = CanonicalJSON(reservingCapacity: images.count * 480)
        for image in images { json.append(image) }
        return json.array
    }

    /// The canonical order of `names`: the indices of `names`, sorted by the names' UTF-8 bytes.
    static func order(of names: [String]) -> [Int] {
        names.indices.sorted { names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8) }
    }

    /// One value.
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

    /// A string literal of `text` up to its first NUL.
    private static func appendString(_ text: String, to out: inout [UInt8]) {
        if text.utf8.withContiguousStorageIfAvailable({ appendString($0, to: &out) }) == nil {
            Array(text.utf8).withUnsafeBufferPointer { appendString($0, to: &out) }
        }
    }

    /// A string literal of UTF-8 bytes up to their first NUL.
    private static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escaping and has no NUL: copy it whole.
        guard
            let special = bytes.firstIndex(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else {
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<special]))
        copy: for byte in bytes[special...] {
            switch byte {
            case 0: break copy
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 1..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xf)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
