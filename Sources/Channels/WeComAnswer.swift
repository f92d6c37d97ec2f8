import Foundation
import Transport

/// Reads WeCom answers: the `errcode` every answer carries, mapped to an ``AppCallError`` the caller can act on, and
/// the call's own fields.
///
/// Verified in WeCom's global error codes (developer.work.weixin.qq.com/document/path/90313, as mirrored by SDKs):
/// -1 系统繁忙 (retry), 40001 不合法的secret参数 (a bad secret: a new token would not help, so it is not treated as an
/// expired token), 40014 不合法的access_token, 42001 access_token已过期, 42009 suite_access_token已过期, 41063 群发消息
/// 正在被派发中，请稍后再试, 45009 接口调用超过限制 (blocked for the limit's own period, usually a minute), 45033 接口并发
/// 调用超过限制, 60020 不安全的访问IP (errmsg `not allow to access from your ip, hint: […], from ip: A.B.C.D`).
enum WeComAnswer {
    /// The errcodes that mean the token is no longer valid: ask for a new one and send once more.
    static let expiredTokenCodes: Set<Int> = [40014, 42001, 42009]
    /// How long to wait after 45009: WeCom lifts a block after the limit's period, the shortest being a minute.
    static let frequencyPause: Duration = .seconds(60)
    /// How long to wait after 45033 (too many calls at once): a guess, WeCom names no period.
    static let concurrencyPause: Duration = .seconds(2)

    private struct Envelope: Decodable {
        var errcode: Int?
        var errmsg: String?
    }

    /// The answer's `errcode`, nil when it has none (or isn't JSON).
    static func errcode(of response: HTTPResponse) -> Int? {
        (try? JSONDecoder().decode(Envelope.self, from: Data(response.body)))?.errcode
    }

    /// The fields of a successful answer, or the error its errcode, status or shape means. Messages are scrubbed of
    /// `secrets`.
    static func decode<Answer: Decodable>(
        _ type: Answer.Type, from response: HTTPResponse, hiding secrets: [String]
    ) throws(AppCallError) -> Answer {
        if response.truncated { throw .malformed("the answer is longer than gridcast reads") }
        let data = Data(response.body)
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: data) else {
            if response.status != 200 { throw .http(status: response.status) }
            throw .malformed("the answer is not a JSON object")
        }
        if let code = envelope.errcode, code != 0 {
            throw error(code: code, message: AppText.scrubbed(envelope.errmsg ?? "", hiding: secrets))
        }
        if response.status != 200 { throw .http(status: response.status) }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let failure as DecodingError {
            throw .malformed(describe(failure))
        } catch {
            throw .malformed("the answer could not be read")
        }
    }

    /// The error a non-zero errcode means.
    static func error(code: Int, message: String) -> AppCallError {
        switch code {
        case 60020: .untrustedIP(address: address(in: message))
        case -1, 41063: .busy(code: code)
        case 45009: .rateLimited(code: code, pause: frequencyPause)
        case 45033: .rateLimited(code: code, pause: concurrencyPause)
        default: .refused(code: code, message: message)
        }
    }

    /// The address after `from ip: ` in a 60020 message, when it looks like one.
    static func address(in message: String) -> String? {
        guard let marker = message.range(of: "from ip: ") else { return nil }
        let address = message[marker.upperBound...].prefix { $0.isHexDigit || $0 == "." || $0 == ":" }
        return address.isEmpty ? nil : String(address)
    }

    /// A short, value-free account of why an answer didn't decode: which field, never its content.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)) has an unexpected type"
        case .dataCorrupted(let context): return "\(path(context.codingPath)) is unreadable"
        @unknown default: return "the answer could not be read"
        }
    }
}
