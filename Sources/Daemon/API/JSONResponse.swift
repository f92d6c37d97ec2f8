import Foundation
import Hummingbird

/// JSON answers: sorted keys, unescaped slashes, ISO 8601 times, `application/json`.
enum JSONResponse {
    /// The media type of every JSON answer.
    static let contentType = "application/json; charset=utf-8"

    /// Encodes `value` as the body of a response with `status`.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // The answer types hold only strings, numbers, booleans and dates: encoding can't fail.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return make(json: data, status: status)
    }

    /// A response whose body is already-encoded JSON.
    static func make(json: some Sequence<UInt8>, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: json))
        )
    }
}
