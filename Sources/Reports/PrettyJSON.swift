/// JSON written as it is made, laid out as `JSONEncoder` lays it out with `.prettyPrinted, .sortedKeys,
/// .withoutEscapingSlashes` (two-space indents, `"key" : value`, an empty array as `[`, a blank line, `]`): a
/// report's hundred thousand group rows go out without a tree of them in memory. Callers give an object's keys in
/// sorted order.
struct PrettyJSON {
    /// What is written and not yet taken (``take()``).
    private(set) var bytes: [UInt8] = []
    /// For each open container: whether nothing is in it yet.
    private var empty: [Bool] = []
    /// Whether the next value follows a key (no line break before it).
    private var afterKey = false

    /// Opens an object.
    mutating func beginObject() { open(UInt8(ascii: "{")) }
    /// Closes the object opened last.
    mutating func endObject() { close(UInt8(ascii: "}")) }
    /// Opens an array.
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    /// Closes the array opened last.
    mutating func endArray() { close(UInt8(ascii: "]")) }

    /// The next key of the open object.
    mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(contentsOf: " : ".utf8)
        afterKey = true
    }

    /// A string value.
    mutating func string(_ text: String) {
        separate()
        appendString(text)
    }

    /// An integer value.
    mutating func int(_ number: Int) {
        separate()
        bytes.append(contentsOf: String(number).utf8)
    }

    /// `key` and a string.
    mutating func field(_ name: String, _ text: String) {
        key(name)
        string(text)
    }

    /// `key` and an integer.
    mutating func field(_ name: String, _ number: Int) {
        key(name)
        int(number)
    }

    /// Hands back what was written so far and forgets it.
    mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        empty.append(true)
    }

    private mutating func close(_ bracket: UInt8) {
        let wasEmpty = empty.removeLast()
        bytes.append(0x0A)
        if wasEmpty { bytes.append(0x0A) }
        indent()
        bytes.append(bracket)
    }

    /// What goes before a key or a value: nothing after a key, else a comma after an earlier element, a line
    /// break and the indent.
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = empty.indices.last else { return }
        if !empty[last] { bytes.append(UInt8(ascii: ",")) }
        empty[last] = false
        bytes.append(0x0A)
        indent()
    }

    private mutating func indent() {
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * empty.count))
    }

    /// `text` quoted, with the escapes `JSONEncoder` writes: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u00XX`
    /// for the other control characters.
    private mutating func appendString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
            case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
