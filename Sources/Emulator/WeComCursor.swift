import Foundation

/// WeCom page cursors as the emulator writes them: opaque to clients, an offset inside.
enum WeComCursor {
    /// The cursor of the page that starts at `offset`.
    static func encode(_ offset: Int) -> String {
        Data("gridcast-emulator:\(offset)".utf8).base64EncodedString()
    }

    /// The offset `cursor` names (0 for an empty one); nil when it is not one of ours or is past `count`.
    static func offset(_ cursor: String, count: Int) -> Int? {
        if cursor.isEmpty { return 0 }
        guard let data = Data(base64Encoded: cursor),
            case let text = String(decoding: data, as: UTF8.self), text.hasPrefix("gridcast-emulator:"),
            let offset = Int(text.dropFirst("gridcast-emulator:".count)), (0...count).contains(offset)
        else { return nil }
        return offset
    }
}
