/// Writes the small JSON objects webhook bodies are made of, in the order the fields are added.
///
/// Foundation's `JSONEncoder` costs more than the rest of rendering a message put together, and a fan-out renders
/// one body per group; this writer only appends escaped UTF-8.
struct JSONWriter {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    /// Adds `"key": "value"`.
    mutating func field(_ key: String, _ value: String) {
        name(key)
        Self.appendString(value, to: &bytes)
    }

    /// Adds `"key": true|false`.
    mutating func field(_ key: String, _ value: Bool) {
        name(key)
        bytes += Array((value ? "true" : "false").utf8)
    }

    /// Adds `"key": n`.
    mutating func field(_ key: String, _ value: Int) {
        name(key)
        bytes += Array(String(value).utf8)
    }

    /// Adds `"key": ["a", "b"]`.
    mutating func field(_ key: String, _ values: [String]) {
        name(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Adds `"key": {…}` written by `build`.
    mutating func object(_ key: String, _ build: (inout JSONWriter) -> Void) {
        name(key)
        var inner = JSONWriter()
        build(&inner)
        bytes += inner.finished
    }

    /// Adds `"key": [{…}, {…}]` from finished writers.
    mutating func array(_ key: String, objects: [JSONWriter]) {
        name(key)
        bytes.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += object.finished
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Adds `"key": [[{…}, …], …]`: an array of arrays of finished writers (a Feishu `post`'s lines).
    mutating func rawArray(_ key: String, _ rows: [[JSONWriter]]) {
        name(key)
        bytes.append(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            for (column, object) in row.enumerated() {
                if column > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes += object.finished
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Adds `"key": {…}` from a finished writer.
    mutating func object(_ key: String, _ object: JSONWriter) {
        name(key)
        bytes += object.finished
    }

    /// The object, closed.
    var finished: [UInt8] {
        bytes + [UInt8(ascii: "}")]
    }

    private mutating func name(_ key: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        Self.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string literal: `"`, `\` and control characters escaped; everything else as UTF-8.
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Keys and most texts need no escaping: copied whole, every body of a fan-out renders several.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0a: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0d: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                bytes += Array("\\u00".utf8)
                bytes += [Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0x0f)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
