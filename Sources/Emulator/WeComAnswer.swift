import Foundation

/// WeCom server-API answers: HTTP 200 with `errcode` and `errmsg` in a JSON body, whatever the outcome.
enum WeComAnswer {
    /// `errcode` 0 with `fields` beside it.
    static func ok(_ fields: [String: Any] = [:], errmsg: String = "ok") -> EmulatedAction {
        var body = fields
        body["errcode"] = 0
        body["errmsg"] = errmsg
        return .json(200, encode(body))
    }

    /// A refusal: `errcode`, and an `errmsg` worded like WeCom's, with the emulator's hint (a message's own
    /// `, hint: …` goes inside it) and the look-up link.
    static func error(_ code: Int, _ message: String, headers: [String: String] = [:]) -> EmulatedAction {
        let link = code > 0 ? ", more info at https://open.work.weixin.qq.com/devtool/query?e=\(code)" : ""
        var text = message
        var hint = "emulator"
        if let range = message.range(of: ", hint: ") {
            text = String(message[..<range.lowerBound])
            hint += ": " + message[range.upperBound...]
        }
        return .json(200, encode(["errcode": code, "errmsg": "\(text), hint: [\(hint)]\(link)"]), headers: headers)
    }

    /// `object` as JSON with sorted keys, slashes unescaped.
    static func encode(_ object: Any) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A request body as a JSON object; nil when it is not one.
    static func object(_ body: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// A JSON value read as an integer (a number, or a string of digits as some clients send).
    static func integer(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let number = value as? Double, number == number.rounded() { return Int(number) }
        if let text = value as? String { return Int(text) }
        return nil
    }

    /// Unix seconds.
    static func seconds(_ date: Date) -> Int { Int(date.timeIntervalSince1970) }
}
