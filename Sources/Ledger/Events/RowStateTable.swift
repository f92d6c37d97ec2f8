/// A map from 64-bit row hashes to 32-bit states in two flat arrays (open addressing, linear probing): 12 bytes a
/// row at four fifths full, where a `Dictionary` of the same would take twice that. ``ChainDigest`` keeps one entry
/// for every row the events name, so this is most of what `ledger verify` holds.
struct RowStateTable {
    /// The row hashes; 0 marks a free slot (a hash of 0 is stored as 1).
    private var keys: [UInt64]
    private var values: [UInt32]
    private(set) var count = 0

    /// A table that holds `expected` rows without growing.
    init(expected: Int) {
        let capacity = max(16, expected + expected / 4 + 1)
        keys = Array(repeating: 0, count: capacity)
        values = Array(repeating: 0, count: capacity)
    }

    /// The state of `hash`, or `absent` when it has none.
    subscript(hash: UInt64, default absent: UInt32) -> UInt32 {
        get {
            let key = Self.stored(hash)
            var slot = slot(of: key)
            while keys[slot] != 0 {
                if keys[slot] == key { return values[slot] }
                slot = slot + 1 == keys.count ? 0 : slot + 1
            }
            return absent
        }
        set {
            if (count + 1) * 5 > keys.count * 4 { grow() }
            let key = Self.stored(hash)
            var slot = slot(of: key)
            while keys[slot] != 0, keys[slot] != key {
                slot = slot + 1 == keys.count ? 0 : slot + 1
            }
            if keys[slot] == 0 {
                keys[slot] = key
                count += 1
            }
            values[slot] = newValue
        }
    }

    /// Every stored state.
    var states: some Sequence<UInt32> {
        zip(keys, values).lazy.filter { $0.0 != 0 }.map(\.1)
    }

    private func slot(of key: UInt64) -> Int {
        Int(key.multipliedFullWidth(by: UInt64(keys.count)).high)
    }

    private static func stored(_ hash: UInt64) -> UInt64 {
        hash == 0 ? 1 : hash
    }

    private mutating func grow() {
        var larger = RowStateTable(expected: keys.count * 2)
        for (key, value) in zip(keys, values) where key != 0 {
            larger[key, default: 0] = value
        }
        self = larger
    }
}
