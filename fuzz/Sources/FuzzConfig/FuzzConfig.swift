import FuzzSupport
import GridcastCore

/// The YAML config loader on arbitrary bytes: it may refuse them, never crash, and every problem names a line
/// inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    do {
        _ = try FuzzSupport.loader.load(yaml: text, file: "fuzz.yaml")
    } catch {
        FuzzSupport.checkLocations(error, lines: FuzzSupport.yamlLineCount(text), file: "fuzz.yaml")
    }
    return 0
}
