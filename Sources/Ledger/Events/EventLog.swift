import Crypto
import Foundation
import GridcastCore

/// The hash-chained event log: every change to ledger rows is appended, in the transaction that makes it, as the
/// rows' full contents afterwards or, for claims and outcomes, the columns the change set. Replaying the log
/// rebuilds every table; the chain makes any edit, deletion, reordering or truncation of the log itself show.
/// This part is every store's: how an event is hashed and its payload encoded. Each store appends in its own file.
enum EventLog {
    /// SHA-256 over the previous hash and every other field, each length-prefixed so no two events encode alike.
    static func hash(of event: LedgerEvent) -> String {
        var payload = event.payload
        // Hash the string's own UTF-8 storage: the payload of a plan can be megabytes.
        return payload.withUTF8 { bytes in
            hash(
                prevHash: event.prevHash, seq: event.seq, at: event.at, kind: event.kind, actor: event.actor,
                payload: bytes)
        }
    }

    /// The hash of an event with these fields, the payload as its UTF-8 bytes.
    static func hash(
        prevHash: String, seq: Int64, at: Int64, kind: String, actor: String, payload: UnsafeBufferPointer<UInt8>
    ) -> String {
        var hasher = SHA256()
        func field(_ bytes: UnsafeBufferPointer<UInt8>) {
            hasher.update(data: Array("\(bytes.count):".utf8))
            hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
        }
        for var text in ["gridcast-event-v1", prevHash, String(seq), String(at), kind, actor] {
            text.withUTF8(field)
        }
        field(payload)
        return Hex.encode(hasher.finalize())
    }

    /// The images as the canonical JSON array an event's payload holds (``CanonicalJSON``).
    static func encode(_ images: [RowImage]) -> String {
        CanonicalJSON.array(images)
    }

    /// The images an event's payload holds.
    static func decode(_ payload: String) throws -> [RowImage] {
        try JSONDecoder().decode([RowImage].self, from: Data(payload.utf8))
    }
}
