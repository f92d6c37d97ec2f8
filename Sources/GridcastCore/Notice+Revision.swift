/// Edited library notices: a library notice whose file changed after its id was recorded with other content is
/// recorded under a revision id, so the schedule goes on and groups that had any version don't get it again
/// (`docs/ledger.md`, "Edited library notices").
extension Notice {
    /// What stands between a library id and a revision's digest.
    public static let revisionMarker = ".rev-"

    /// The id an edited library notice is recorded under: `id`, ``revisionMarker`` and the first 8 hex digits of the
    /// new content's hash.
    public static func revisionID(of id: String, contentHash: String) -> String {
        id + revisionMarker + contentHash.prefix(8)
    }

    /// The library id a recorded notice id stands for: the id itself, or the id a revision or a round
    /// (``roundID(of:round:)``) was made of.
    public static func libraryID(of recordedID: String) -> String {
        rotationKey(of: recordedID).libraryID
    }

    /// The id a revision was made of: `recordedID` itself when it is not a revision.
    public static func withoutRevision(_ recordedID: String) -> String {
        guard recordedID.utf8.count > revisionMarker.utf8.count + 8 else { return recordedID }
        let digest = recordedID.utf8.suffix(8)
        let marker = recordedID.utf8.dropLast(8).suffix(revisionMarker.utf8.count)
        guard
            digest.allSatisfy({
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }),
            marker.elementsEqual(revisionMarker.utf8)
        else { return recordedID }
        return String(recordedID.utf8.dropLast(8 + revisionMarker.utf8.count))!
    }

    /// This notice as recorded when its id already holds content with `recordedHash`: itself when the content is the
    /// same, otherwise the revision of its content.
    public func recorded(over recordedHash: String?) -> Notice {
        guard let recordedHash, recordedHash != contentHash else { return self }
        var revision = self
        revision.id = Self.revisionID(of: id, contentHash: contentHash)
        return revision
    }
}
