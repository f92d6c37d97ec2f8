import Foundation
import Hummingbird

/// JSON answers: sorted keys, unescaped slashes, ISO 8601 times in the config's zone with the offset
/// (`2026-12-03T09:30:00+08:00`), `application/json`.
enum JSONResponse {
    /// The zone times are written in: the config's, set for each request by ``AnswerTimeZoneMiddleware``.
    @TaskLocal static var timeZone = TimeZone(identifier: "UTC")!

    /// The media type of every JSON answer.
    static let contentType = "application/json; charset=utf-8"

    /// Encodes `value` as the body of a response with `status`.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let style = Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: timeZone)
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(style))
        }
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

/// Runs each request with ``JSONResponse/timeZone`` set to the config's zone, so the times a person reads in an
/// answer are local, with their offset.
struct AnswerTimeZoneMiddleware<Context: RequestContext>: RouterMiddleware {
    let timeZone: TimeZone

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await JSONResponse.$timeZone.withValue(timeZone) { try await next(request, context) }
    }
}
