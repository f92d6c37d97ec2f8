import Foundation

/// Telegram's HTML `parse_mode` as the Bot API reads it: the supported tags (`b`, `strong`, `i`, `em`, `u`, `ins`,
/// `s`, `strike`, `del`, `code`, `pre`, `a href`, `span class="tg-spoiler"`, `tg-spoiler`, `blockquote`), the
/// entities `&lt;` `&gt;` `&amp;` `&quot;` and numeric ones. Anything else is the API's "can't parse entities".
enum TelegramMarkup {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static let tags: Set<String> = [
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "span", "tg-spoiler",
        "blockquote", "tg-emoji",
    ]

    /// The visible text of `html`, or why Telegram refuses it.
    static func parse(_ html: String) -> Result<String, Problem> {
        let bytes = Array(html.utf8)
        var visible: [UInt8] = []
        var open: [String] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                guard let close = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else {
                    return .failure(Problem(description: "Unclosed start tag at byte offset \(index)"))
                }
                let inside = String(decoding: bytes[(index + 1)..<close], as: UTF8.self)
                if inside.hasPrefix("/") {
                    let name = inside.dropFirst().trimmingCharacters(in: .whitespaces).lowercased()
                    guard let last = open.last else {
                        return .failure(Problem(description: "Unexpected end tag at byte offset \(index)"))
                    }
                    guard last == name else {
                        return .failure(
                            Problem(description: "Can't find end tag corresponding to start tag \"\(last)\""))
                    }
                    open.removeLast()
                } else {
                    let name = String(inside.prefix { !$0.isWhitespace }).lowercased()
                    guard tags.contains(name) else {
                        return .failure(
                            Problem(description: "Unsupported start tag \"\(name)\" at byte offset \(index)"))
                    }
                    if name == "a", !inside.contains("href=") {
                        return .failure(Problem(description: "Tag \"a\" must have attribute href"))
                    }
                    open.append(name)
                }
                index = close + 1
                continue
            }
            if byte == UInt8(ascii: ">") {
                return .failure(Problem(description: "Unexpected \">\" at byte offset \(index)"))
            }
            if byte == UInt8(ascii: "&") {
                guard let end = bytes[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")),
                    let character = entity(String(decoding: bytes[(index + 1)..<end], as: UTF8.self))
                else {
                    return .failure(Problem(description: "Unsupported HTML entity at byte offset \(index)"))
                }
                visible += Array(character.utf8)
                index = end + 1
                continue
            }
            visible.append(byte)
            index += 1
        }
        if let last = open.last {
            return .failure(Problem(description: "Can't find end tag corresponding to start tag \"\(last)\""))
        }
        return .success(String(decoding: visible, as: UTF8.self))
    }

    private static func entity(_ name: String) -> String? {
        switch name {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
    }
}
