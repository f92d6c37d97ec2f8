/// A response's header fields as they arrived: one `Name: value` line after another, looked up by name when asked.
///
/// Every response of a fan-out passes through here, and the sinks ask for one or two fields at most (`retry-after`,
/// a rate-limit pair), so the lines are kept as bytes rather than decoded into strings and a dictionary for each.
/// Names compare case-insensitively (ASCII); a field that appears twice answers with its last value.
public struct HeaderFields: Sendable, Equatable {
    /// The most fields kept; further ones are dropped.
    public static let limit = 100
    /// The longest value kept, in bytes; longer ones are cut.
    public static let valueLimit = 1024

    /// The lines, each `name:value` with the value's leading blanks removed, separated by `\n`.
    private var lines: [UInt8] = []
    /// How many lines ``lines`` holds.
    public private(set) var count = 0

    /// No fields.
    public init() {}

    /// The fields of `dictionary`, whose names are matched case-insensitively.
    public init(_ dictionary: [String: String]) {
        for (name, value) in dictionary.sorted(by: { $0.key < $1.key }) {
            Array("\(name): \(value)".utf8).withUnsafeBytes { append(line: $0) }
        }
    }

    /// Adds one header line as libcurl hands it over (`Name: value\r\n`). A status line (`HTTP/…`) starts a new
    /// response, so the fields of an interim 1xx response before it are forgotten. Lines without a colon are
    /// ignored.
    public mutating func append(line bytes: UnsafeRawBufferPointer) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0a || bytes[end - 1] == 0x0d || bytes[end - 1] == 0x20 { end -= 1 }
        if end >= 5, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50, bytes[4] == 0x2f {
            lines.removeAll(keepingCapacity: true)  // "HTTP/"
            count = 0
            return
        }
        guard count < Self.limit, let colon = bytes[..<end].firstIndex(of: 0x3a) else { return }
        var start = colon + 1
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        if count > 0 { lines.append(0x0a) }
        lines.append(contentsOf: bytes[...colon])
        lines.append(contentsOf: bytes[start..<min(end, start + Self.valueLimit)])
        count += 1
    }

    /// The value of the last field named `name` (any case), or nil.
    public func value(named name: String) -> String? {
        let wanted = Array(name.utf8)
        var found: Range<Int>?
        lines.withUnsafeBufferPointer { all in
            var lineStart = 0
            while lineStart < all.count {
                let lineEnd = all[lineStart...].firstIndex(of: 0x0a) ?? all.count
                let colon = lineStart + wanted.count
                if colon < lineEnd, all[colon] == 0x3a,
                    zip(all[lineStart..<colon], wanted).allSatisfy({ Self.lowercased($0) == Self.lowercased($1) })
                {
                    found = (colon + 1)..<lineEnd
                }
                lineStart = lineEnd + 1
            }
        }
        return found.map { String(decoding: lines[$0], as: UTF8.self) }
    }

    /// Every field by lowercased name; a repeated field keeps its last value.
    public var dictionary: [String: String] {
        var fields: [String: String] = [:]
        for line in lines.split(separator: 0x0a) {
            guard let colon = line.firstIndex(of: 0x3a) else { continue }
            let name = String(decoding: line[..<colon].map(Self.lowercased), as: UTF8.self)
            fields[name] = String(decoding: line[(colon + 1)...], as: UTF8.self)
        }
        return fields
    }

    public static func == (lhs: HeaderFields, rhs: HeaderFields) -> Bool {
        lhs.dictionary == rhs.dictionary
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5a ? byte + 32 : byte
    }
}
