import FuzzSupport
import GridcastCore

/// The body of `POST /v1/notices` on arbitrary bytes, decoded as the API decodes it, then the checks the intake
/// makes before touching the ledger (selector, id). Refusals are fine; a crash or an accepted body without text
/// is not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNoticeBody(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let body = try? NoticeBody(json: bytes) else { return 0 }
    if (body.title ?? "").count > NoticeBody.maxTitleLength { FuzzSupport.fail("accepted an oversize title") }
    _ = try? Selector(parsing: body.to)
    if let id = body.id { _ = Notice.isValidID(id) }
    return 0
}
