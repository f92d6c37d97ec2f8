import Transport

/// The HTTP status rules shared by the "errcode in an HTTP 200 body" robots (WeCom, DingTalk), which do not
/// deduplicate: sent for the exact success body, nil for another 200 (read its errcode), "too fast" for 429, retry for 503 ("unavailable": not taken), outcome
/// unknown for other 5xx (a gateway may fail after the message was posted), permanent for anything else.
enum ErrcodeStatus {
    /// The success answer both robots give, byte for byte: recognized without parsing JSON, which is most of the
    /// cost of classifying an answer in a large fan-out.
    static let ok = Array(#"{"errcode":0,"errmsg":"ok"}"#.utf8)

    static func verdict(for response: HTTPResponse) -> Verdict? {
        switch response.status {
        case 200 where response.body == ok: .sent
        case 200: nil
        case 429: .rateLimited(after: RetryAfter.delay(in: response), reason: "HTTP 429")
        case 503: .retry(after: RetryAfter.delay(in: response), reason: "HTTP 503")
        case 500...599: .unknown(reason: "HTTP \(response.status)")
        default: .permanent(reason: "HTTP \(response.status)")
        }
    }
}

/// The status rules of platforms whose only success signal is the status (and, for Slack, a plain `ok` body):
/// "too fast" for 429, retry for 5xx, outcome unknown for an unexpected 2xx, permanent for anything else.
enum PlainStatus {
    /// The verdict for an answer the caller did not recognize as success.
    static func verdict(for response: HTTPResponse, reason: String) -> Verdict {
        switch response.status {
        case 429: .rateLimited(after: RetryAfter.delay(in: response), reason: reason)
        case 500...599: .retry(after: RetryAfter.delay(in: response), reason: reason)
        case 200...299: .unknown(reason: reason)
        default: .permanent(reason: reason)
        }
    }
}
