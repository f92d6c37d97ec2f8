/// Splits text to fit a size limit: at paragraph breaks first, then line breaks, then between characters
/// (grapheme clusters), so no part ever ends inside a UTF-8 sequence or a grapheme. The parts, concatenated,
/// are exactly the original text.
public enum TextSplitter {
    /// Splits `text` into pieces each measuring at most `budget` in `limit`'s unit.
    public static func split(_ text: String, budget: Int, limit: TextLimit) -> [String] {
        split(text, budget: budget, measure: { limit.measure($0) })
    }

    /// Splits `text` into pieces each measuring at most `budget` by `measure`, which must be additive: a piece
    /// measures the sum of its parts (true of byte and character counts, and of JSON-escaped sizes).
    public static func split(_ text: String, budget: Int, measure: (Substring) -> Int) -> [String] {
        precondition(budget > 0, "split budget must be positive")
        return split(Substring(text), budget: budget, measure: measure, level: 0).map(String.init)
    }

    private static func split(
        _ text: Substring, budget: Int, measure: (Substring) -> Int, level: Int
    ) -> [Substring] {
        if measure(text) <= budget { return [text] }
        var parts: [Substring] = []
        var current: Substring = text[text.startIndex..<text.startIndex]
        var currentSize = 0
        for piece in pieces(of: text, level: level) {
            let size = measure(piece)
            if currentSize + size <= budget {
                current = text[current.startIndex..<piece.endIndex]
                currentSize += size
                continue
            }
            if size <= budget || level == 2 {
                // A single grapheme can't be split further: over budget, it goes alone.
                if !current.isEmpty { parts.append(current) }
                current = piece
                currentSize = size
            } else {
                // Too big for a part of its own: split at the next finer level together with what the current part
                // holds, so that part is filled instead of leaving nearly empty (a title alone, say).
                let from = current.isEmpty ? piece.startIndex : current.startIndex
                var sub = split(text[from..<piece.endIndex], budget: budget, measure: measure, level: level + 1)
                let last = sub.removeLast()
                parts += sub
                current = last
                currentSize = measure(last)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    /// Level 0: paragraphs (each keeps its trailing blank lines); 1: lines (each keeps its line break); 2: graphemes.
    /// `"\r\n"` is one `Character` in Swift, so line breaks are found with `isNewline`, not by comparing to `"\n"`.
    private static func pieces(of text: Substring, level: Int) -> [Substring] {
        if level >= 2 { return text.indices.map { text[$0...$0] } }
        var pieces: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            guard text[index].isNewline else {
                index = next
                continue
            }
            if level == 1 {
                pieces.append(text[start..<next])
                start = next
                index = next
                continue
            }
            // A paragraph ends at two or more consecutive line breaks; they stay with it.
            var end = next
            while end < text.endIndex && text[end].isNewline { end = text.index(after: end) }
            if text.distance(from: index, to: end) >= 2 {
                pieces.append(text[start..<end])
                start = end
            }
            index = end
        }
        if start < text.endIndex { pieces.append(text[start...]) }
        return pieces
    }
}
