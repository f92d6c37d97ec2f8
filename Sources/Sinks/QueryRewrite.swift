/// Replaces query parameters of a webhook URL, keeping everything else exactly as written (no re-encoding of
/// the token, no reordering): DingTalk's fresh `timestamp`/`sign`, Discord's `wait=true`.
enum QueryRewrite {
    /// `url` without any earlier parameter named like one of `items`, and `items` (already encoded) appended.
    static func setting(_ items: [(name: String, value: String)], in url: String) -> String {
        var base = Substring(url)
        var fragment: Substring = ""
        if let hash = base.firstIndex(of: "#") {
            fragment = base[hash...]
            base = base[..<hash]
        }
        let parts = base.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var kept = parts.count > 1 ? parts[1].split(separator: "&").map(String.init) : []
        let names = Set(items.map(\.name))
        kept.removeAll { pair in names.contains(String(pair.prefix(while: { $0 != "=" }))) }
        kept += items.map { "\($0.name)=\($0.value)" }
        return String(parts[0]) + "?" + kept.joined(separator: "&") + fragment
    }
}
