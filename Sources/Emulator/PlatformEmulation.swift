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
    /// Every window the platform enforces per bot (default: ``perMinuteLimit`` a minute).
    var rateWindows: [RateWindow] { get }
    /// The "too fast" answer to `request` (default: ``tooFast()``; Discord's units depend on the path's version).
    func tooFast(for request: EmulatedRequest) -> EmulatedAction
    /// The answer for an injected fault to `request` (default: ``answer(for:)``).
    func answer(for fault: FaultPlan.Fault, to request: EmulatedRequest) -> EmulatedAction
    /// How long the platform refuses a bot, with the same answer, after answering it `action` (DingTalk locks a
    /// robot for ten minutes after `130101` or `90030`); nil when it doesn't.
    func lockout(after action: EmulatedAction) -> TimeInterval?
    /// The answer as it leaves, knowing the bot's requests within its rate windows, oldest first (Discord adds its
    /// `X-RateLimit-*` headers to every answer).
    func finishing(_ action: EmulatedAction, recent: [Date], now: Date) -> EmulatedAction
    /// Whether `request` posts an image (a poster), which a `bad-image` fault waits for.
    func carriesImage(_ request: EmulatedRequest) -> Bool
}

/// A limit several bots of one platform share: at most `count` requests in `seconds` under `key`.
struct SharedLimit {
    var key: String
    var count: Int
    var seconds: Double
    var tooFast: EmulatedAction
}

/// A platform's rate limit over one window: at most `count` requests per `seconds`.
struct RateWindow: Sendable, Equatable {
    var count: Int
    var seconds: TimeInterval

    /// The span the emulator counts requests over: the window, less a tenth for windows shorter than a minute, so a
    /// sender that spaces its messages at the rate passes despite network jitter and one that bursts does not.
    var span: TimeInterval { seconds < 60 ? seconds * 0.9 : seconds }
}

extension PlatformEmulation {
    func sharedLimit(of request: EmulatedRequest) -> SharedLimit? { nil }
    var rateWindows: [RateWindow] { perMinuteLimit.map { [RateWindow(count: $0, seconds: 60)] } ?? [] }
    func tooFast(for request: EmulatedRequest) -> EmulatedAction { tooFast() }
    func answer(for fault: FaultPlan.Fault, to request: EmulatedRequest) -> EmulatedAction { answer(for: fault) }
    func lockout(after action: EmulatedAction) -> TimeInterval? { nil }
    func finishing(_ action: EmulatedAction, recent: [Date], now: Date) -> EmulatedAction { action }
    func carriesImage(_ request: EmulatedRequest) -> Bool { false }

    func answer(
        for fault: FaultPlan.Fault, busy: EmulatedAction, rateLimited: EmulatedAction, permanent: EmulatedAction
    )
        -> EmulatedAction
    {
        switch fault {
        case .busy: return busy
        case .acceptedThenLost: return accepted()
        case .badImage: return permanent
        case .rateLimit: return rateLimited
        case .permanent: return permanent
        case .status(let status): return .respond(status: status, headers: [:], body: "")
        case .timeout: return .hang
        case .reset, .lostAnswer: return .reset
        case .doneThenHang: return .hang
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
