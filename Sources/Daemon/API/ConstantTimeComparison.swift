/// Compares a presented credential with the expected one in time that depends only on the presented one's length.
///
/// The expected bytes are repeated (padded cyclically) to the presented length and every byte is compared, with the
/// length difference folded into the result: no early exit on the first differing byte nor on a length mismatch, so
/// the time reveals neither how much of a guess was right nor how long the secret is.
enum ConstantTimeComparison {
    /// True when `presented` equals `expected`, byte for byte. An empty `expected` matches nothing.
    static func equal(_ presented: some Collection<UInt8>, _ expected: [UInt8]) -> Bool {
        guard !expected.isEmpty else { return false }
        var difference = UInt(bitPattern: presented.count ^ expected.count)
        var index = 0
        for byte in presented {
            difference |= UInt(byte ^ expected[index % expected.count])
            index += 1
        }
        return difference == 0
    }

    /// True when the UTF-8 bytes of `presented` equal those of `expected`.
    static func equal(_ presented: Substring, _ expected: [UInt8]) -> Bool {
        equal(presented.utf8, expected)
    }
}
