import FuzzSupport
import GridcastCore

/// One notice file (YAML front matter and Markdown) on arbitrary bytes: refused or read, never a crash, and every
/// problem names a line inside the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontMatter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    switch NoticeLibrary.parse(text, file: "fuzz.md") {
    case .success(let entry):
        if !Notice.isValidID(entry.notice.id) { FuzzSupport.fail("accepted an invalid id") }
        if entry.notice.text.isEmpty { FuzzSupport.fail("accepted an empty text") }
    case .failure(let error):
        FuzzSupport.checkLocations(error, lines: FuzzSupport.yamlLineCount(text), file: "fuzz.md")
    }
    return 0
}
