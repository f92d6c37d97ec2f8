/// "Did you mean" for misspelt keys and names.
public enum KeySuggestion {
    /// The candidate closest to `word` when it is close enough to be a likely typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        // Of the candidates the word starts or is started by, the one nearest its length: `wecom-customer` means
        // `wecom-customer-group`, not `wecom`. The first of equals wins.
        let extending = candidates.filter { $0.hasPrefix(lowered) || lowered.hasPrefix($0) }
        if lowered.count >= 3,
            let extended = extending.min(by: { abs($0.count - lowered.count) < abs($1.count - lowered.count) })
        {
            return extended
        }
        let limit = word.count >= 6 ? 3 : 2
        let scored = candidates.map { ($0, distance(word.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
        return best.0
    }

    /// Levenshtein distance in characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// ` (did you mean 'x'?)` or an empty string.
    public static func hint(for word: String, in candidates: [String]) -> String {
        guard let match = closest(to: word, in: candidates) else { return "" }
        return " (did you mean '\(match)'?)"
    }
}
