import Foundation

/// Reading the user's files as text: UTF-8 only, a leading byte-order mark dropped, and a file that is not UTF-8
/// refused at the place of its first bad byte, not at its first line.
enum TextDecoding {
    /// What decoding found.
    enum Outcome {
        /// The text, without a leading byte-order mark.
        case text(String)
        /// The first byte that is not part of valid UTF-8: its 1-based line and column (in Unicode scalars).
        case invalid(line: Int, column: Int)
    }

    /// Decodes `bytes` as UTF-8.
    static func decode(_ bytes: some Collection<UInt8>) -> Outcome {
        if let text = String(validating: bytes, as: UTF8.self) {
            return .text(withoutByteOrderMark(text))
        }
        var line = 1
        var column = 1
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput:
                // Unreachable: validation failed, so some byte is bad.
                return .invalid(line: line, column: column)
            case .error:
                return .invalid(line: line, column: column)
            }
        }
    }

    /// `text` without a leading U+FEFF, which editors on Windows put in front of UTF-8 files.
    static func withoutByteOrderMark(_ text: String) -> String {
        guard text.unicodeScalars.first == "\u{FEFF}" else { return text }
        return String(text.unicodeScalars.dropFirst())
    }

    /// The advice that goes with a file that is not UTF-8.
    static let advice = "save it as UTF-8 (not GBK or UTF-16)"
}
