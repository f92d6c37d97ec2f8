import Foundation

/// A `multipart/form-data` body as a platform reads it: its parts by name, a file's name and type with its bytes.
struct MultipartBody {
    /// One part of the form.
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var data: [UInt8]

        /// The part as UTF-8 text.
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    var parts: [Part]

    /// The first part named `name`.
    subscript(name: String) -> Part? { parts.first { $0.name == name } }

    /// Parses `body` sent with `contentType`; nil when it is not a well-formed multipart form.
    init?(_ body: [UInt8], contentType: String?) {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
            let range = contentType.range(of: "boundary=")
        else { return nil }
        var boundary = String(contentType[range.upperBound...])
        if let end = boundary.firstIndex(of: ";") { boundary = String(boundary[..<end]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard !boundary.isEmpty else { return nil }
        let data = Data(body)
        let delimiter = Data("--\(boundary)".utf8)
        var parts: [Part] = []
        guard var cursor = data.range(of: delimiter)?.upperBound else { return nil }
        while true {
            // After a delimiter: `--` ends the form, CRLF starts a part.
            if data[cursor...].starts(with: Data("--".utf8)) { break }
            guard data[cursor...].starts(with: Data("\r\n".utf8)) else { return nil }
            let start = cursor + 2
            guard let headEnd = data.range(of: Data("\r\n\r\n".utf8), in: start..<data.endIndex),
                let next = data.range(of: Data("\r\n".utf8) + delimiter, in: headEnd.upperBound..<data.endIndex)
            else { return nil }
            let head = String(decoding: data[start..<headEnd.lowerBound], as: UTF8.self)
            guard var part = Self.part(head: head) else { return nil }
            part.data = [UInt8](data[headEnd.upperBound..<next.lowerBound])
            parts.append(part)
            cursor = next.upperBound
        }
        self.parts = parts
    }

    /// A part's name, file name and type from its header lines.
    private static func part(head: String) -> Part? {
        var name: String?
        var filename: String?
        var type: String?
        for line in head.components(separatedBy: "\r\n") {
            let lower = line.lowercased()
            if lower.hasPrefix("content-disposition:") {
                guard lower.contains("form-data") else { return nil }
                name = parameter("name", in: line)
                filename = parameter("filename", in: line)
            } else if lower.hasPrefix("content-type:") {
                type = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        guard let name else { return nil }
        return Part(name: name, filename: filename, contentType: type, data: [])
    }

    /// The quoted value of `key="…"` in a header line.
    private static func parameter(_ key: String, in line: String) -> String? {
        for piece in line.components(separatedBy: ";") {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(key + "=") else { continue }
            return String(trimmed.dropFirst(key.count + 1)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }
}
