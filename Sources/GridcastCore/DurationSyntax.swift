/// The duration syntax of the config: a number and a unit, `250ms`, `15s`, `5m`, `1h`, or several such (`1h30m`).
public enum DurationSyntax {
    /// Parses a duration, or returns nil when the text is not one.
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var rest = Substring(text.trimmingSpaces)
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, let value = Int64(digits), value < 1_000_000_000 else { return nil }
            rest = rest.dropFirst(digits.count)
            // "ms" must be tried before "m".
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(rest.hasPrefix("ms") && $0.0 == "m") })
            else { return nil }
            rest = rest.dropFirst(unit.0.count)
            // Each term is below 10^9 days, but enough of them overflow: refuse instead of trapping.
            let (term, overflowed) = value.multipliedReportingOverflow(by: unit.1)
            guard !overflowed else { return nil }
            let (sum, overflowedSum) = total.addingReportingOverflow(term)
            guard !overflowedSum else { return nil }
            total = sum
        }
        return .milliseconds(total)
    }

    /// Formats a duration the way the config writes it.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        // Most cells start and end with ASCII that is not a space: nothing to do, and no scalar decoding either.
        let utf8 = self.utf8
        guard let head = utf8.first, let tail = utf8.last else { return self }
        if head < 0x80 && tail < 0x80 && !Unicode.Scalar(head).isSpace && !Unicode.Scalar(tail).isSpace {
            return self
        }
        // Scalars, not Characters: grapheme breaking is the expensive part, and no whitespace combines.
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.isSpace { scalars.removeFirst() }
        while let last = scalars.last, last.isSpace { scalars.removeLast() }
        if scalars.startIndex == unicodeScalars.startIndex && scalars.endIndex == unicodeScalars.endIndex {
            return self
        }
        return String(scalars)
    }
}

extension Unicode.Scalar {
    /// Whitespace as Unicode defines it; ASCII is answered without the property tables (a groups file trims every
    /// cell of every row).
    var isSpace: Bool {
        if isASCII { return value == 0x20 || (0x09...0x0D).contains(value) }
        return properties.isWhitespace
    }
}
