/// A structural check of a JSON document that the standard decoders don't make: a key repeated in one object
/// (`JSONDecoder` and `JSONSerialization` silently keep one of the values, where other parsers keep the other, so
/// two readers of one body could act on different texts) and a trailing comma. Scalars are only skipped here: the
/// decoder that runs afterwards reads them.
enum StrictJSON {
    /// What the check found.
    enum Finding: Equatable {
        /// Every object's keys are distinct and the structure is well formed.
        case wellFormed
        /// This key (as decoded: `"t\u0065xt"` is `text`) appears twice in one object.
        case duplicateKey(String)
        /// Not well-formed JSON structure (a trailing comma, a missing colon, nesting deeper than `maxDepth`…).
        case malformed
    }

    /// Nesting deeper than this is refused rather than followed.
    static let maxDepth = 256

    /// Checks `bytes`; stops at the first finding.
    static func check(_ bytes: [UInt8]) -> Finding {
        var scanner = Scanner(bytes: bytes)
        // A leading UTF-8 byte-order mark is the decoder's to judge, not a structural fault.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.index = 3 }
        do {
            try scanner.value(depth: 0)
            scanner.skipWhitespace()
            return scanner.index == bytes.count ? .wellFormed : .malformed
        } catch .duplicate(let key) {
            return .duplicateKey(key)
        } catch {
            return .malformed
        }
    }

    private enum Stop: Error {
        case duplicate(String)
        case malformed
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func expect(_ byte: UInt8) throws(Stop) {
            skipWhitespace()
            guard peek() == byte else { throw .malformed }
            index += 1
        }

        mutating func value(depth: Int) throws(Stop) {
            guard depth < StrictJSON.maxDepth else { throw .malformed }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): _ = try string()
            case nil, UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "]"), UInt8(ascii: "}"): throw .malformed
            default: scalar()
            }
        }

        mutating func object(depth: Int) throws(Stop) {
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            var keys = Set<String>()
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw .malformed }
                let key = try string()
                guard keys.insert(key).inserted else { throw .duplicate(key) }
                try expect(UInt8(ascii: ":"))
                try value(depth: depth + 1)
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return
                default: throw .malformed
                }
            }
        }

        mutating func array(depth: Int) throws(Stop) {
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                try value(depth: depth + 1)
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return
                default: throw .malformed
                }
            }
        }

        /// A number or literal: skipped up to the next structural character or whitespace.
        mutating func scalar() {
            while let byte = peek(), !Self.ends(byte) { index += 1 }
        }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }

        static func ends(_ byte: UInt8) -> Bool {
            [UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ":"), 0x20, 0x09, 0x0A, 0x0D]
                .contains(byte)
        }

        /// A string, its escapes decoded (so that two spellings of one key compare equal).
        mutating func string() throws(Stop) -> String {
            index += 1
            var units: [UInt16] = []
            var raw: [UInt8] = []
            func flush() {
                units += String(decoding: raw, as: UTF8.self).utf16
                raw.removeAll(keepingCapacity: true)
            }
            while let byte = peek() {
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(decoding: units, as: UTF16.self)
                case UInt8(ascii: "\\"):
                    flush()
                    guard let escape = peek() else { throw .malformed }
                    index += 1
                    if let byte = JSONEscapes.byte(for: escape) {
                        units.append(UInt16(byte))
                    } else {
                        guard escape == UInt8(ascii: "u"), index + 4 <= bytes.count,
                            bytes[index..<index + 4].allSatisfy(Self.isHexDigit),
                            let unit = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                        else { throw .malformed }
                        units.append(unit)
                        index += 4
                    }
                case 0x00..<0x20:
                    throw .malformed
                default:
                    raw.append(byte)
                }
            }
            throw .malformed
        }
    }
}
