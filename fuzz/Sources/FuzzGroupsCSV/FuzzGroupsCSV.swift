import Foundation
import FuzzSupport
import GridcastCore

/// A `groups_file` on arbitrary bytes, through the real loader (file read, UTF-8 check, CSV, group checks): it may
/// refuse them, never crash, and every problem names a line inside the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGroupsCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    let csv = FuzzSupport.scratch + "/groups.csv"
    guard FileManager.default.createFile(atPath: csv, contents: Data(bytes)) else { return 0 }
    do {
        _ = try FuzzSupport.loader.load(yaml: "groups_file: \(csv)\n", file: "fuzz.yaml")
    } catch {
        FuzzSupport.checkLocations(error, lines: FuzzSupport.lineCount(bytes), file: csv)
    }
    // The parser alone, on the same text, must agree with itself.
    let text = String(decoding: bytes, as: UTF8.self)
    _ = GroupsCSV.rows(text, file: "groups.csv", expansion: FuzzSupport.loader.expansion)
    return 0
}
