import Transport

/// The one rule for an HTTP 5xx from a platform that does not deduplicate (every chat platform here): 503 says the
/// request was not taken ("unavailable"), so it is retried; any other 5xx may come after the message was posted (a
/// gateway failing on the way back), so its outcome is unknown. Only a receiver that deduplicates on the delivery id
/// (``GenericSink``, ``Sink/deduplicates``) retries every 5xx (`docs/sinks.md`, "Answers").
enum ServerErrorRule {
    /// The verdict for a 5xx answer; nil for any other status.
    static func verdict(for response: HTTPResponse, reason: String) -> Verdict? {
        switch response.status {
        case 503: .retry(after: RetryAfter.delay(in: response), reason: reason)
        case 500...599: .unknown(reason: reason)
        default: nil
        }
    }
}

/// The HTTP status rules shared by the "errcode in an HTTP 200 body" robots (WeCom, DingTalk): sent for the exact
/// success body, nil for another 200 (read its errcode), "too fast" for 429, ``ServerErrorRule`` for 5xx, permanent
/// for anything else.
enum ErrcodeStatus {
    /// The success answer both robots give, byte for byte: recognized without parsing JSON, which is most of the
    /// cost of classifying an answer in a large fan-out.
    static let ok = Array(#"{"errcode":0,"errmsg":"ok"}"#.utf8)

    static func verdict(for response: HTTPResponse) -> Verdict? {
        switch response.status {
        case 200 where response.body == ok: .sent
        case 200: nil
        case 429: .rateLimited(after: RetryAfter.delay(in: response), reason: "HTTP 429")
        case 500...599: ServerErrorRule.verdict(for: response, reason: "HTTP \(response.status)")
        default: .permanent(reason: "HTTP \(response.status)")
        }
    }
}

/// The status rules of platforms whose only success signal is the status (and, for Slack, a plain `ok` body):
/// "too fast" for 429, ``ServerErrorRule`` for 5xx, outcome unknown for an unexpected 2xx, permanent for anything
/// else.
enum PlainStatus {
    /// The verdict for an answer the caller did not recognize as success.
    static func verdict(for response: HTTPResponse, reason: String) -> Verdict {
        if let verdict = ServerErrorRule.verdict(for: response, reason: reason) { return verdict }
        switch response.status {
        case 429: return .rateLimited(after: RetryAfter.delay(in: response), reason: reason)
        case 200...299: return .unknown(reason: reason)
        default: return .permanent(reason: reason)
        }
    }
}
