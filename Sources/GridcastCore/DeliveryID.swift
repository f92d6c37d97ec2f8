import Crypto

/// The stable id of a (notice, group) delivery: the same in every ledger store, and what receivers see (the generic
/// sink's `webhook-id`), so a receiver that deduplicates gets each delivery once end to end.
public enum DeliveryID {
    /// `dlv_` and the first 12 bytes of SHA-256 over the notice id, a NUL and the group id, in hex.
    public static func of(noticeID: String, groupID: String) -> String {
        let digest = SHA256.hash(data: Array("\(noticeID)\u{0}\(groupID)".utf8))
        return "dlv_" + Hex.encode(digest.prefix(12))
    }
}
