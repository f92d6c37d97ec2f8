import Emulator
import Foundation
import Testing

/// One row of the fault matrix: a platform, the answer it gives (served by the emulator's fault injection before
/// the group behaves normally), and what the ledger must show afterwards.
struct AnswerRow: Sendable, CustomTestStringConvertible {
    /// How the delivery ends.
    enum End: String, Sendable {
        case sent = "sent"
        case retriedThenSent = "retry→sent"
        case pausedThenSent = "paused→sent"
        case dead = "dead"
        case inDoubt = "in_doubt"
    }

    var platform: Platform
    /// The answer, as `docs/sinks.md` names it.
    var answer: String
    /// What the emulator serves, in order, before behaving.
    var faults: [FaultPlan.Fault]
    var end: End
    /// The ledger's `attempts` at the end.
    var attempts: Int
    /// Requests the emulator received for the group.
    var requests: Int
    /// What each failing answer asked the sender to wait before the next request.
    var wait: Wait = .none
    /// A fragment of the ledger's `last_error` for deliveries that did not end sent.
    var because: String?
    var timeout: Duration = MatrixRig.timeout
    var listening = true

    var testDescription: String {
        "\(platform) · \(answer) → \(end.rawValue), \(attempts) attempt\(attempts == 1 ? "" : "s")"
    }
}

extension AnswerRow {
    /// An answer that means "sent", served once.
    static func accepted(_ platform: Platform, _ answer: String, _ faults: FaultPlan.Fault...) -> AnswerRow {
        AnswerRow(platform: platform, answer: answer, faults: faults, end: .sent, attempts: 1, requests: 1)
    }

    /// A refusal for good: one request, dead, never asked again.
    static func permanent(
        _ platform: Platform, _ answer: String, _ fault: FaultPlan.Fault, because: String
    ) -> AnswerRow {
        AnswerRow(
            platform: platform, answer: answer, faults: [fault], end: .dead, attempts: 1, requests: 1, because: because)
    }

    /// A transient failure, served once: one attempt spent, then sent.
    static func retried(
        _ platform: Platform, _ answer: String, _ fault: FaultPlan.Fault, wait: Wait = .backoff
    ) -> AnswerRow {
        AnswerRow(
            platform: platform, answer: answer, faults: [fault], end: .retriedThenSent, attempts: 2, requests: 2,
            wait: wait)
    }

    /// "Too fast", served once: the bot pauses, no attempt is spent, then sent.
    static func paused(_ platform: Platform, _ answer: String, _ fault: FaultPlan.Fault, wait: Wait) -> AnswerRow {
        AnswerRow(
            platform: platform, answer: answer, faults: [fault], end: .pausedThenSent, attempts: 1, requests: 2,
            wait: wait)
    }

    /// An answer that doesn't say whether the message was posted: held in doubt after one request.
    static func unknown(
        _ platform: Platform, _ answer: String, _ fault: FaultPlan.Fault, because: String,
        timeout: Duration = MatrixRig.timeout
    ) -> AnswerRow {
        AnswerRow(
            platform: platform, answer: answer, faults: [fault], end: .inDoubt, attempts: 1, requests: 1,
            because: because,
            timeout: timeout
        )
    }
}

/// Every answer `docs/sinks.md` lists, per platform.
enum AnswerTable {
    typealias Fault = FaultPlan.Fault

    static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Fault {
        .answer(status, body, headers: headers)
    }

    static func errcode(_ code: Int, _ message: String) -> Fault {
        json(200, #"{"errcode":\#(code),"errmsg":"\#(message)"}"#)
    }

    static let dingtalkMore = ", more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"

    static let wecom: [AnswerRow] = [
        .accepted(.wecom, "errcode 0"),
        .retried(.wecom, "errcode -1 system busy", errcode(-1, "system busy")),
        .retried(.wecom, "HTTP 503", .answer(503, "Service Unavailable")),
        .retried(
            .wecom, "HTTP 503 + Retry-After 9", .answer(503, "", headers: ["Retry-After": "9"]), wait: .retryAfter(9)),
        .paused(.wecom, "errcode 45009 api freq out of limit", errcode(45009, "api freq out of limit"), wait: .pause),
        .paused(.wecom, "HTTP 429", .answer(429, ""), wait: .pause),
        .paused(
            .wecom, "HTTP 429 + Retry-After 7", .answer(429, "", headers: ["Retry-After": "7"]), wait: .retryAfter(7)),
        .permanent(
            .wecom, "errcode 93000 invalid webhook url", errcode(93000, "invalid webhook url"), because: "errcode 93000"
        ),
        .permanent(
            .wecom, "errcode 40008 invalid message type", errcode(40008, "invalid message type"),
            because: "errcode 40008"),
        .permanent(
            .wecom, "errcode 40058 content too long", errcode(40058, "content exceed max length 2048"),
            because: "errcode 40058"),
        .permanent(.wecom, "errcode 44004 (other code)", errcode(44004, "empty content"), because: "errcode 44004"),
        .permanent(.wecom, "HTTP 404", .answer(404, "Not Found"), because: "HTTP 404"),
        .unknown(.wecom, "HTTP 500", .answer(500, ""), because: "HTTP 500"),
        .unknown(.wecom, "HTTP 502", .answer(502, "Bad Gateway"), because: "HTTP 502"),
        .unknown(.wecom, "HTTP 504", .answer(504, "Gateway Timeout"), because: "HTTP 504"),
        .unknown(
            .wecom, "HTTP 200 without errcode", .answer(200, "<html>gateway</html>"), because: "without an errcode"),
    ]

    static let dingtalk: [AnswerRow] = [
        .accepted(.dingtalk, "errcode 0"),
        .retried(.dingtalk, "errcode -1 busy", errcode(-1, "系统繁忙")),
        .retried(.dingtalk, "HTTP 503", .answer(503, "")),
        .retried(
            .dingtalk, "HTTP 503 + Retry-After 9", .answer(503, "", headers: ["Retry-After": "9"]), wait: .retryAfter(9)
        ),
        .paused(
            .dingtalk, "errcode 130101 send too fast", errcode(130101, "send too fast, exceed 20 times per minute"),
            wait: .retryAfter(600)),
        .paused(.dingtalk, "errcode 90030 quota", errcode(90030, "robot quota exceeded"), wait: .retryAfter(600)),
        .paused(.dingtalk, "HTTP 429", .answer(429, ""), wait: .pause),
        .paused(
            .dingtalk, "HTTP 429 + Retry-After 7", .answer(429, "", headers: ["Retry-After": "7"]), wait: .retryAfter(7)
        ),
        .permanent(
            .dingtalk, "errcode 310000 keywords not in content",
            errcode(310000, "keywords not in content" + dingtalkMore), because: "custom keyword"),
        .permanent(
            .dingtalk, "errcode 310000 invalid timestamp", errcode(310000, "invalid timestamp" + dingtalkMore),
            because: "clock"),
        .permanent(
            .dingtalk, "errcode 310000 sign not match", errcode(310000, "sign not match" + dingtalkMore),
            because: "secret"),
        .permanent(
            .dingtalk, "errcode 310000 ip not in whitelist",
            errcode(310000, "ip 203.0.113.7 not in whitelist" + dingtalkMore), because: "IP list"),
        .permanent(
            .dingtalk, "errcode 300001 token is not exist", errcode(300001, "token is not exist"),
            because: "errcode 300001"),
        .permanent(
            .dingtalk, "errcode 460101 message too long", errcode(460101, "message too long"), because: "errcode 460101"
        ),
        .unknown(.dingtalk, "HTTP 500", .answer(500, ""), because: "HTTP 500"),
        .unknown(.dingtalk, "HTTP 502", .answer(502, ""), because: "HTTP 502"),
        .unknown(.dingtalk, "HTTP 504", .answer(504, ""), because: "HTTP 504"),
    ]

    static func code(_ code: Int, _ message: String, status: Int = 200) -> Fault {
        json(status, #"{"code":\#(code),"data":{},"msg":"\#(message)"}"#)
    }

    /// Feishu and Lark answer alike.
    static func feishu(_ platform: Platform) -> [AnswerRow] {
        [
            .accepted(platform, "code 0"),
            .accepted(platform, "legacy StatusCode 0", json(200, #"{"StatusCode":0,"StatusMessage":"success"}"#)),
            .permanent(
                platform, "legacy StatusCode 19024 (no code)",
                json(200, #"{"StatusCode":19024,"StatusMessage":"Key Words Not Found"}"#), because: "code 19024"),
            .retried(platform, "HTTP 503", .answer(503, "Service Unavailable")),
            .paused(
                platform, "code 11232 frequency limited",
                code(11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"), wait: .pause),
            .paused(platform, "HTTP 429", .answer(429, ""), wait: .pause),
            .paused(
                platform, "HTTP 429 + Retry-After 7", .answer(429, "", headers: ["Retry-After": "7"]),
                wait: .retryAfter(7)),
            .permanent(
                platform, "code 19021 sign match fail",
                code(19021, "sign match fail or timestamp is not within one hour from current time"),
                because: "code 19021"),
            .permanent(
                platform, "code 19024 Key Words Not Found", code(19024, "Key Words Not Found"), because: "code 19024"),
            .permanent(platform, "code 9499 Bad Request", code(9499, "Bad Request"), because: "code 9499"),
            .permanent(
                platform, "HTTP 400 + code 9499", code(9499, "Bad Request", status: 400), because: "code 9499"),
            .permanent(
                platform, "code 10208 msg type not support", code(10208, "msg type card not support"),
                because: "code 10208"),
            .permanent(
                platform, "code 19001 token invalid (other code)",
                code(19001, "param invalid: incoming webhook access token invalid"), because: "code 19001"),
            .unknown(platform, "HTTP 500", .answer(500, ""), because: "HTTP 500"),
            .unknown(platform, "HTTP 502", .answer(502, ""), because: "HTTP 502"),
            .unknown(platform, "HTTP 504", .answer(504, ""), because: "HTTP 504"),
        ]
    }

    static func slackText(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Fault {
        .answer(status, body, headers: headers.merging(["content-type": "text/plain"]) { $1 })
    }

    static let slack: [AnswerRow] = [
        .accepted(.slack, "HTTP 200 ok"),
        .paused(
            .slack, "HTTP 429 + Retry-After 7", slackText(429, "rate_limited", headers: ["Retry-After": "7"]),
            wait: .retryAfter(7)),
        .paused(.slack, "HTTP 429 without Retry-After", slackText(429, "rate_limited"), wait: .pause),
        .permanent(
            .slack, "HTTP 400 invalid_payload", slackText(400, "invalid_payload"), because: "HTTP 400: invalid_payload"),
        .permanent(
            .slack, "HTTP 403 action_prohibited", slackText(403, "action_prohibited"),
            because: "HTTP 403: action_prohibited"),
        .permanent(
            .slack, "HTTP 404 channel_not_found", slackText(404, "channel_not_found"),
            because: "HTTP 404: channel_not_found"),
        .permanent(
            .slack, "HTTP 410 channel_is_archived", slackText(410, "channel_is_archived"),
            because: "HTTP 410: channel_is_archived"),
        .unknown(.slack, "HTTP 500", slackText(500, "internal_error"), because: "HTTP 500"),
        .unknown(.slack, "HTTP 502", .answer(502, ""), because: "HTTP 502"),
        .retried(.slack, "HTTP 503", slackText(503, "service_unavailable")),
        .unknown(.slack, "HTTP 504", .answer(504, ""), because: "HTTP 504"),
    ]

    static func telegram(_ code: Int, _ description: String, parameters: String? = nil) -> Fault {
        let extra = parameters.map { #","parameters":\#($0)"# } ?? ""
        return json(code, #"{"ok":false,"error_code":\#(code),"description":"\#(description)"\#(extra)}"#)
    }

    static let telegram: [AnswerRow] = [
        .accepted(.telegram, #""ok": true"#),
        .paused(
            .telegram, "429 + retry_after 7",
            telegram(429, "Too Many Requests: retry after 7", parameters: #"{"retry_after":7}"#), wait: .retryAfter(7)),
        .paused(.telegram, "429 without retry_after", telegram(429, "Too Many Requests"), wait: .pause),
        .permanent(
            .telegram, "400 migrate_to_chat_id",
            telegram(
                400, "Bad Request: group chat was upgraded to a supergroup chat",
                parameters: #"{"migrate_to_chat_id":-1009876543210}"#),
            because: "chat_id to -1009876543210"),
        .permanent(.telegram, "400 chat not found", telegram(400, "Bad Request: chat not found"), because: "error 400"),
        .permanent(.telegram, "401 Unauthorized", telegram(401, "Unauthorized"), because: "error 401"),
        .permanent(
            .telegram, "403 bot was kicked", telegram(403, "Forbidden: bot was kicked from the group chat"),
            because: "error 403"),
        .permanent(.telegram, "404 Not Found", telegram(404, "Not Found"), because: "error 404"),
        .retried(.telegram, "500 Internal Server Error", telegram(500, "Internal Server Error")),
        .unknown(
            .telegram, "502 Bad Gateway (HTML)", .answer(502, "<html>502 Bad Gateway</html>"), because: "HTTP 502"),
        .retried(.telegram, "503", .answer(503, "")),
        .unknown(.telegram, "504", .answer(504, ""), because: "HTTP 504"),
    ]

    static func discord(_ status: Int, _ code: Int, _ message: String) -> Fault {
        json(status, #"{"message":"\#(message)","code":\#(code)}"#)
    }

    static let discord: [AnswerRow] = [
        .accepted(.discord, "HTTP 200 (wait=true)"),
        .paused(
            .discord, "429 + Retry-After 7 + retry_after 6.25",
            json(
                429, #"{"message":"You are being rate limited.","retry_after":6.25,"global":false}"#,
                headers: ["Retry-After": "7"]), wait: .retryAfter(7)),
        .paused(
            .discord, "429 + retry_after 2.5 only",
            json(429, #"{"message":"You are being rate limited.","retry_after":2.5,"global":false}"#),
            wait: .retryAfter(2.5)),
        .paused(.discord, "429 naming no time", json(429, #"{"message":"You are being rate limited."}"#), wait: .pause),
        .permanent(
            .discord, "404 code 10015 Unknown Webhook", discord(404, 10015, "Unknown Webhook"), because: "code 10015"),
        .permanent(
            .discord, "401 code 50027 Invalid Webhook Token", discord(401, 50027, "Invalid Webhook Token"),
            because: "code 50027"),
        .permanent(
            .discord, "400 code 50035 Invalid Form Body", discord(400, 50035, "Invalid Form Body"),
            because: "code 50035"),
        .permanent(
            .discord, "403 code 50013 Missing Permissions", discord(403, 50013, "Missing Permissions"),
            because: "code 50013"),
        .unknown(.discord, "HTTP 500", discord(500, 0, "Internal Server Error"), because: "HTTP 500"),
        .unknown(.discord, "HTTP 502", .answer(502, ""), because: "HTTP 502"),
        .retried(.discord, "HTTP 503", discord(503, 0, "Service Unavailable")),
        .unknown(.discord, "HTTP 504", .answer(504, ""), because: "HTTP 504"),
    ]

    static func azure(_ status: Int, _ code: String, headers: [String: String] = [:]) -> Fault {
        json(status, #"{"error":{"code":"\#(code)","message":"…"}}"#, headers: headers)
    }

    static let teams: [AnswerRow] = [
        .accepted(.teams, "HTTP 202"),
        .accepted(.teams, "HTTP 200", .answer(200, "")),
        .paused(
            .teams, "HTTP 429 + Retry-After 7", azure(429, "TooManyRequests", headers: ["Retry-After": "7"]),
            wait: .retryAfter(7)),
        .paused(.teams, "HTTP 429 without Retry-After", azure(429, "TooManyRequests"), wait: .pause),
        .permanent(.teams, "HTTP 400", azure(400, "InvalidRequestContent"), because: "HTTP 400"),
        .permanent(.teams, "HTTP 401", azure(401, "DirectApiInvalidAuthorizationSignature"), because: "HTTP 401"),
        .permanent(.teams, "HTTP 403", azure(403, "Forbidden"), because: "HTTP 403"),
        .permanent(.teams, "HTTP 404", azure(404, "WorkflowNotFound"), because: "HTTP 404"),
        .permanent(.teams, "HTTP 413", azure(413, "MessageTooLarge"), because: "HTTP 413"),
        .unknown(.teams, "HTTP 500", azure(500, "InternalServerError"), because: "HTTP 500"),
        .unknown(.teams, "HTTP 502", .answer(502, ""), because: "HTTP 502"),
        .retried(.teams, "HTTP 503", azure(503, "ServiceUnavailable")),
        .unknown(.teams, "HTTP 504", .answer(504, ""), because: "HTTP 504"),
    ]

    static let generic: [AnswerRow] = [
        .accepted(.generic, "HTTP 204"),
        .accepted(.generic, "HTTP 200", .answer(200, "")),
        .accepted(.generic, "HTTP 201", .answer(201, #"{"received":true}"#)),
        .paused(
            .generic, "HTTP 429 + Retry-After 7", .answer(429, "", headers: ["Retry-After": "7"]), wait: .retryAfter(7)),
        .paused(.generic, "HTTP 429 without Retry-After", .answer(429, ""), wait: .pause),
        .retried(.generic, "HTTP 500", .answer(500, "")),
        .retried(.generic, "HTTP 502", .answer(502, "")),
        .retried(.generic, "HTTP 503", .answer(503, "")),
        .retried(.generic, "HTTP 504", .answer(504, "")),
        .retried(
            .generic, "HTTP 503 + Retry-After 9", .answer(503, "", headers: ["Retry-After": "9"]), wait: .retryAfter(9)),
        .retried(
            .generic, "HTTP 502 + Retry-After 8", .answer(502, "", headers: ["Retry-After": "8"]), wait: .retryAfter(8)),
        .permanent(
            .generic, "HTTP 301 (never followed)", .answer(301, "", headers: ["Location": "/hooks/elsewhere"]),
            because: "HTTP 301"),
        .permanent(
            .generic, "HTTP 302 (never followed)", .answer(302, "", headers: ["Location": "/hooks/elsewhere"]),
            because: "HTTP 302"),
        .permanent(
            .generic, "HTTP 307 (never followed)", .answer(307, "", headers: ["Location": "/hooks/elsewhere"]),
            because: "HTTP 307"),
        .permanent(
            .generic, "HTTP 308 (never followed)", .answer(308, "", headers: ["Location": "/hooks/elsewhere"]),
            because: "HTTP 308"),
        .permanent(.generic, "HTTP 410 Gone", .answer(410, ""), because: "HTTP 410"),
        .permanent(.generic, "HTTP 400", .answer(400, ""), because: "HTTP 400"),
        .permanent(.generic, "HTTP 401", .answer(401, ""), because: "HTTP 401"),
        .permanent(.generic, "HTTP 404", .answer(404, ""), because: "HTTP 404"),
        .permanent(.generic, "HTTP 413", .answer(413, ""), because: "HTTP 413"),
    ]

    /// The emulator's named faults and the network failures, on every platform.
    static func common(_ platform: Platform) -> [AnswerRow] {
        let attempts = MatrixRig.attempts
        return [
            AnswerRow(
                platform: platform, answer: "busy (named) × \(attempts)",
                faults: Array(repeating: .busy, count: attempts),
                end: .dead, attempts: attempts, requests: attempts, wait: .backoff,
                because: "gave up after \(attempts) attempts"),
            AnswerRow(
                platform: platform, answer: "rate-limit (named) × \(attempts + 1)",
                faults: Array(repeating: .rateLimit(retryAfter: nil), count: attempts + 1), end: .pausedThenSent,
                attempts: 1, requests: attempts + 2, wait: platform.namedRateLimitWait),
            AnswerRow(
                platform: platform, answer: "permanent (named)", faults: [.permanent], end: .dead, attempts: 1,
                requests: 1),
        ] + unknownOutcomes(platform) + [
            AnswerRow(
                platform: platform, answer: "connect refused (nothing listening)", faults: [], end: .dead,
                attempts: attempts, requests: 0, because: "not sent (curl 7", listening: false)
        ]
    }

    /// Network failures after the request was written: in doubt, except where the receiver deduplicates (generic),
    /// which gets the message again and drops the repeat.
    static func unknownOutcomes(_ platform: Platform) -> [AnswerRow] {
        if platform == .generic {
            return [
                AnswerRow(
                    platform: platform, answer: "timeout after the request was written", faults: [.timeout],
                    end: .retriedThenSent, attempts: 2, requests: 2, wait: .backoff, timeout: .seconds(1)),
                .retried(platform, "connection reset after the request was written", .reset),
                AnswerRow(
                    platform: platform, answer: "busy, then reset on the kept-alive connection",
                    faults: [.busy, .reset], end: .retriedThenSent, attempts: 3, requests: 3, wait: .backoff),
            ]
        }
        return [
            .unknown(
                platform, "timeout after the request was written", .timeout, because: "outcome unknown (curl 28",
                timeout: .seconds(1)),
            .unknown(platform, "connection reset after the request was written", .reset, because: "outcome unknown"),
            AnswerRow(
                platform: platform, answer: "busy, then reset on the kept-alive connection", faults: [.busy, .reset],
                end: .inDoubt, attempts: 2, requests: 2, wait: .backoff, because: "outcome unknown"),
        ]
    }

    /// The whole matrix.
    static let rows: [AnswerRow] =
        wecom + dingtalk + feishu(.feishu) + feishu(.lark) + slack + telegram + discord + teams + generic
        + Platform.allCases.flatMap(common)
}
