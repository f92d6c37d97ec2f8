import Foundation

/// Rounds of the rotation: once a group has had every library notice, `when_exhausted: restart` sends the library
/// again, and each delivery of a second round needs an id of its own, since the ledger holds one delivery per
/// (notice, group) for ever (`docs/scheduling.md`, "Rounds").
extension Notice {
    /// What stands between a library id and its round number.
    public static let roundMarker = ".round-"

    /// The id round `round` of library notice `id` is recorded under: `id` itself for the first round, then
    /// `id.round-2`, `id.round-3`… An edited file's revision goes after it (`id.round-2.rev-3fa2c1d0`).
    public static func roundID(of id: String, round: Int) -> String {
        round <= 1 ? id : id + roundMarker + String(round)
    }

    /// The library id and round a recorded id stands for, a revision's digest set aside: `a1` → (`a1`, 1),
    /// `a1.round-3.rev-3fa2c1d0` → (`a1`, 3).
    public static func rotationKey(of recordedID: String) -> (libraryID: String, round: Int) {
        let id = withoutRevision(recordedID)
        guard let marker = id.range(of: roundMarker, options: .backwards) else { return (id, 1) }
        let digits = id[marker.upperBound...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            digits.first != "0", let round = Int(digits), round >= 2
        else { return (id, 1) }
        return (String(id[..<marker.lowerBound]), round)
    }
}
