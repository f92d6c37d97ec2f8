/// JSON's one-character string escapes, for the readers that decode strings from bytes themselves.
public enum JSONEscapes {
    /// The byte `\` followed by `escape` stands for (`n` → line feed, `"` → quote…); nil for `u` and for anything
    /// JSON doesn't define.
    public static func byte(for escape: UInt8) -> UInt8? {
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escape
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }
}
