/// Cutting text to a platform's field limit without splitting a character.
public enum Truncated {
    /// The longest prefix of `text` of whole characters within `bytes` bytes of UTF-8.
    public static func utf8(_ text: String, bytes: Int) -> String {
        if text.utf8.count <= bytes { return text }
        var result = ""
        var size = 0
        for character in text {
            size += character.utf8.count
            if size > bytes { break }
            result.append(character)
        }
        return result
    }
}
