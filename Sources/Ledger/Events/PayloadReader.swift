import Foundation
import GridcastCore

/// Reads an event's payload — the canonical JSON array ``CanonicalJSON`` writes — one row image at a time, straight
/// from its bytes: `gridcast ledger verify` goes through millions of images and must not hold a plan's hundred
/// thousand at once. It reads only the canonical form (`{"row"|"set":{…},"table":"…"}`, no spaces, values that are
/// `null`, integers or strings); anything else is `nil`, and the caller falls back to ``EventLog/decode(_:)``.
struct PayloadReader {
    /// Where each image starts in `bytes`, in payload order; nil when the payload is not a canonical array.
    static func starts(in bytes: UnsafeBufferPointer<UInt8>) -> [Int]? {
        guard bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") else { return nil }
        var starts: [Int] = []
        var depth = 0
        var index = 1
        var inString = false
        while index < bytes.count - 1 {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"):
                    if depth == 0 { starts.append(index) }
                    depth += 1
                case UInt8(ascii: "}"):
                    depth -= 1
                    guard depth >= 0 else { return nil }
                default: break
                }
            }
            index += 1
        }
        return depth == 0 && !inString ? starts : nil
    }

    /// The image that starts at `start`; nil when it is not in the canonical form.
    static func image(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> RowImage? {
        var reader = PayloadReader(bytes: bytes, index: start)
        return reader.image()
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index: Int

    private init(bytes: UnsafeBufferPointer<UInt8>, index: Int) {
        self.bytes = bytes
        self.index = index
    }

    private mutating func image() -> RowImage? {
        guard take("{"), let kind = string(), take(":{") else { return nil }
        guard kind == "row" || kind == "set" else { return nil }
        var columns: [String] = []
        var values: [LedgerValue] = []
        if !take("}") {
            repeat {
                guard let column = string(), take(":"), let value = value() else { return nil }
                columns.append(column)
                values.append(value)
            } while take(",")
            guard take("}") else { return nil }
        }
        guard take(",\"table\":"), let table = string(), take("}") else { return nil }
        return RowImage(table: table, columns: columns, values: values, isChange: kind == "set")
    }

    /// Consumes `literal` when the bytes continue with it.
    private mutating func take(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        if matches { index += count }
        return matches
    }

    private mutating func value() -> LedgerValue? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "\""): return string().map(LedgerValue.text)
        case UInt8(ascii: "n"): return take("null") ? .null : nil
        default: return integer().map(LedgerValue.integer)
        }
    }

    /// `-?[0-9]+` that fits an Int64; a fraction or exponent (a real, which the ledger doesn't write) is nil.
    private mutating func integer() -> Int64? {
        let negative = take("-")
        var magnitude: UInt64 = 0
        let first = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            magnitude = sum
            index += 1
        }
        guard index > first, index - first == 1 || bytes[first] != UInt8(ascii: "0") else { return nil }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
            return nil
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A JSON string, its escapes decoded; nil when malformed (a lone surrogate included).
    private mutating func string() -> String? {
        guard take("\"") else { return nil }
        let start = index
        // The common case: no escape, the bytes are the string.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            guard bytes[index] >= 0x20 else { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "\"") {
            index += 1
            return Self.text(UnsafeBufferPointer(rebasing: bytes[start..<index - 1]))
        }
        var decoded = Array(bytes[start..<index])
        while bytes[index] == UInt8(ascii: "\\") {
            index += 1
            guard index < bytes.count else { return nil }
            let escape = bytes[index]
            index += 1
            if let byte = JSONEscapes.byte(for: escape) {
                decoded.append(byte)
            } else {
                guard escape == UInt8(ascii: "u"), var scalar = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard take("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                decoded.append(contentsOf: String(Character(unicode)).utf8)
            }
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                guard bytes[index] >= 0x20 else { return nil }
                decoded.append(bytes[index])
                index += 1
            }
            guard index < bytes.count else { return nil }
        }
        index += 1
        return decoded.withUnsafeBufferPointer(Self.text)
    }

    /// `utf8` as text when it is valid UTF-8, else nil. Decoded by the standard library's specialized path, which
    /// replaces what is not valid, and compared with the bytes: `String(validating:as:)` is generic, and its
    /// metadata lookups were a tenth of `verify`'s time.
    private static func text(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
        var text = String(decoding: utf8, as: UTF8.self)
        let same = text.withUTF8 { decoded in
            decoded.count == utf8.count
                && (utf8.isEmpty || memcmp(decoded.baseAddress!, utf8.baseAddress!, utf8.count) == 0)
        }
        return same ? text : nil
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else { return nil }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
