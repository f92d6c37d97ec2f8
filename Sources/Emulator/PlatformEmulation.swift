import Foundation
import GridcastCore

/// One platform's webhook endpoint as the emulator plays it: which requests are its, which group a request is for,
/// and the platform's own answers — including its failures, which come back as HTTP 200 on several platforms.
protocol PlatformEmulation: Sendable {
    /// The sink name this emulates.
    var sink: String { get }
    /// Whether a request is addressed to this platform.
    func accepts(_ request: EmulatedRequest) -> Bool
    /// The key that identifies the bot a request addresses (a robot key, a path…).
    func botKey(of request: EmulatedRequest) -> String
    /// The same key computed from a configured group's URL.
    func botKey(of group: Group) -> String?
    /// Checks and accepts a request for `group` (nil when the emulator runs without a config).
    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?)
    /// The platform's answer to an unknown bot.
    func unknownBot() -> EmulatedAction
    /// The platform's answer for an injected fault.
    func answer(for fault: FaultPlan.Fault) -> EmulatedAction
    /// The platform's success answer, for `--blackhole` mode.
    func accepted() -> EmulatedAction
    /// The platform's "too fast" answer, and its per-bot limit (messages per minute), if it enforces one.
    var perMinuteLimit: Int? { get }
    func tooFast() -> EmulatedAction
    /// A limit this request shares with the bot's other chats (Telegram's token), and the answer when it is over.
    func sharedLimit(of request: EmulatedRequest) -> SharedLimit?
}

/// A limit several bots of one platform share: at most `count` requests in `seconds` under `key`.
struct SharedLimit {
    var key: String
    var count: Int
    var seconds: Double
    var tooFast: EmulatedAction
}

extension PlatformEmulation {
    func sharedLimit(of request: EmulatedRequest) -> SharedLimit? { nil }

    func answer(
        for fault: FaultPlan.Fault, busy: EmulatedAction, rateLimited: EmulatedAction, permanent: EmulatedAction
    )
        -> EmulatedAction
    {
        switch fault {
        case .busy: return busy
        case .acceptedThenLost: return accepted()
        case .rateLimit: return rateLimited
        case .permanent: return permanent
        case .status(let status): return .respond(status: status, headers: [:], body: "")
        case .timeout: return .hang
        case .reset: return .reset
        case .oversize:
            return .respond(status: 200, headers: [:], body: String(repeating: "x", count: 100 * 1024))
        case .answer(let status, let body, var headers):
            if headers["content-type"] == nil && !body.isEmpty {
                headers["content-type"] = body.hasPrefix("{") ? "application/json" : "text/plain"
            }
            return .respond(status: status, headers: headers, body: body)
        }
    }

    static func jsonObject(_ body: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}
