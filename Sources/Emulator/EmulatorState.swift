import Foundation
import GridcastCore

/// Everything the emulator remembers. It lives on the server's single event loop, so it needs no lock.
final class EmulatorState {
    private let platforms: [any PlatformEmulation] = [
        WeComEmulation(), DingTalkEmulation(), FeishuEmulation(), SlackEmulation(), TelegramEmulation(),
        DiscordEmulation(), TeamsEmulation(), GenericEmulation(),
    ]
    private let groupsByBot: [String: Group]
    /// Feishu's app API: tenant tokens and uploaded images.
    private var feishuApps: FeishuAppEmulation
    private let knowsGroups: Bool
    private var faults: [String: [FaultPlan.Fault]]
    private var recentByBot: [String: [Date]] = [:]
    /// Bots the platform refuses until a time, with the answer it gives them meanwhile (DingTalk's lockout).
    private var lockedByBot: [String: (until: Date, answer: EmulatedAction)] = [:]
    private let enforceRateLimits: Bool
    private let log: (@Sendable (String) -> Void)?
    /// The log's times: `2026-12-03 09:30:01+08:00` in this zone.
    private let timeStyle: Date.ISO8601FormatStyle
    private(set) var received: [ReceivedMessage] = []
    private(set) var requests = 0
    /// The images that arrived as bytes (posters), by lower-case hex sha256.
    private(set) var posters: [String: [UInt8]] = [:]
    /// Every request addressed to a bot, in arrival order (not kept for blackholed requests).
    private(set) var requestLog: [EmulatedRequestRecord] = []
    /// Requests per group (or bot key), for `/_emulator/stats`.
    private(set) var requestsByGroup: [String: Int] = [:]
    private(set) var acceptedCount = 0

    init(
        groups: [Group],
        faults: FaultPlan,
        enforceRateLimits: Bool,
        timeZone: TimeZone = .current,
        log: (@Sendable (String) -> Void)?
    ) {
        var byBot: [String: Group] = [:]
        for group in groups {
            for platform in platforms {
                if let key = platform.botKey(of: group) { byBot[key] = group }
            }
        }
        self.groupsByBot = byBot
        self.feishuApps = FeishuAppEmulation(groups: groups)
        self.knowsGroups = !groups.isEmpty
        self.faults = faults.faults
        self.enforceRateLimits = enforceRateLimits
        self.log = log
        timeStyle = Date.ISO8601FormatStyle(dateTimeSeparator: .space, timeZoneSeparator: .colon, timeZone: timeZone)
    }

    func handle(_ request: EmulatedRequest, now: Date = Date()) -> EmulatedAction {
        requests += 1
        if FeishuAppEmulation.accepts(request) {
            let action = feishuApps.handle(request)
            if case .respond(let status, _, let body) = action, request.path == FeishuAppEmulation.imagePath {
                log?("[\(timestamp(now))] feishu app: image upload answered HTTP \(status) \(body)")
            }
            return action
        }
        guard let platform = platform(for: request) else { return Self.noPlatform }
        var request = request
        if platform.sink == "feishu" { request.uploadedImages = feishuApps.images }
        let bot = platform.botKey(of: request)
        let group = groupsByBot[bot]
        if knowsGroups && group == nil {
            log?("[\(timestamp(now))] ✗ \(platform.sink): request for an unknown bot refused")
            return note(platform.unknownBot(), for: bot, at: now, injected: false)
        }
        let label = group?.id ?? bot
        if var queue = faults[label], let next = queue.first, next != .badImage || platform.carriesImage(request) {
            let fault = queue.removeFirst()
            faults[label] = queue
            log?("[\(timestamp(now))] ⚡ \(label): injected fault \(fault)")
            let action = platform.answer(for: fault, to: request)
            lock(bot, platform: platform, after: action, now: now)
            return note(finish(action, platform: platform, bot: bot, now: now), for: label, at: now, injected: true)
        }
        if enforceRateLimits, let locked = lockedByBot[bot], now < locked.until {
            log?("[\(timestamp(now))] ✗ \(label): locked out until \(timestamp(locked.until))")
            return note(
                finish(locked.answer, platform: platform, bot: bot, now: now), for: label, at: now, injected: false)
        }
        if enforceRateLimits, let longest = platform.rateWindows.map(\.seconds).max() {
            let window = recentByBot[bot, default: []].filter { now.timeIntervalSince($0) < longest }
            recentByBot[bot] = window
            if let over = platform.rateWindows.first(where: { limit in
                window.filter { now.timeIntervalSince($0) < limit.span }.count >= limit.count
            }) {
                log?("[\(timestamp(now))] ✗ \(label): over \(over.count) messages in \(over.seconds.formatted()) s")
                let action = platform.tooFast(for: request)
                lock(bot, platform: platform, after: action, now: now)
                return note(
                    finish(action, platform: platform, bot: bot, now: now), for: label, at: now, injected: false)
            }
            recentByBot[bot] = window + [now]
        }
        if enforceRateLimits, let shared = platform.sharedLimit(of: request) {
            let window = recentByBot[shared.key, default: []].filter {
                // A millisecond's grace: a sender spacing messages exactly 1/30 s apart adds rounding errors.
                now.timeIntervalSince($0) < shared.seconds - 0.001
            }
            recentByBot[shared.key] = window.count >= shared.count ? window : window + [now]
            if window.count >= shared.count {
                log?("[\(timestamp(now))] ✗ \(label): over \(shared.count) messages in \(shared.seconds) s for its bot")
                return note(shared.tooFast, for: label, at: now, injected: false)
            }
        }
        let (action, handled) = platform.handle(request, group: group, now: now)
        if var message = handled {
            if let bytes = message.image?.bytes, let sha256 = message.image?.sha256 {
                posters[sha256] = bytes
                message.image?.bytes = nil
            }
            received.append(message)
            acceptedCount += 1
            let name = group.map { "\($0.name) (\($0.id))" } ?? label
            let mention = message.mentionAll ? " @所有人" : ""
            var shown = message.text
            if let image = message.image {
                let source = image.url.map { " \($0)" } ?? ""
                shown +=
                    (shown.isEmpty ? "" : "\n")
                    + "[海报 poster \(image.size) B sha256 \(image.sha256.prefix(12))\(source)]"
            }
            if let card = message.card {
                shown += (shown.isEmpty ? "" : "\n") + "[卡片 card 「\(card.title)」 \(card.url)]"
            }
            log?("[\(timestamp(now))] → \(name) · \(platform.sink)\(mention)\n\(shown)\n")
        } else if case .respond(let status, _, let body) = action {
            log?("[\(timestamp(now))] ✗ \(label): refused (HTTP \(status) \(body))")
        }
        lock(bot, platform: platform, after: action, now: now)
        return note(finish(action, platform: platform, bot: bot, now: now), for: label, at: now, injected: false)
    }

    /// How many Feishu tenant tokens were issued and images uploaded.
    var feishuAppCounts: (tokens: Int, uploads: Int) { (feishuApps.issued, feishuApps.images.count) }

    /// Ends every Feishu tenant token.
    func expireFeishuTokens() { feishuApps.expireTokens() }

    /// Starts the lockout the platform imposes after `action`, if any (rate limits enforced only).
    private func lock(_ bot: String, platform: any PlatformEmulation, after action: EmulatedAction, now: Date) {
        guard enforceRateLimits, let seconds = platform.lockout(after: action) else { return }
        lockedByBot[bot] = (now.addingTimeInterval(seconds), action)
    }

    /// The platform's finishing touches on an answer to `bot` (Discord's rate-limit headers).
    private func finish(
        _ action: EmulatedAction, platform: any PlatformEmulation, bot: String, now: Date
    ) -> EmulatedAction {
        platform.finishing(action, recent: recentByBot[bot] ?? [], now: now)
    }

    /// Blackhole mode, the benchmark receiver: the success answer of the platform a request is addressed to, or
    /// nil when it is addressed to none. Reads no body, checks and logs nothing, and counts nothing: see
    /// ``countBlackholed(accepted:)``.
    func blackholeAnswer(_ request: EmulatedRequest) -> EmulatedAction? {
        platform(for: request)?.accepted()
    }

    /// Whether blackhole answers depend on the method and path alone: without a config there is no bot to match.
    var blackholeAnswersByPath: Bool { !knowsGroups }

    /// Counts a blackholed request, and whether it was accepted.
    func countBlackholed(accepted: Bool) {
        requests += 1
        if accepted { acceptedCount += 1 }
    }

    /// The answer to `GET uri` on the emulator's own paths: the messages, the counts, a health check.
    func control(_ uri: String) -> EmulatedAction {
        switch uri {
        case "/_emulator/messages":
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let data = (try? encoder.encode(received)) ?? Data("[]".utf8)
            return .json(200, String(decoding: data, as: UTF8.self))
        case "/_emulator/stats":
            let groups =
                (try? JSONSerialization.data(withJSONObject: requestsByGroup, options: [.sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return .json(200, #"{"requests":\#(requests),"accepted":\#(acceptedCount),"groups":\#(groups)}"#)
        case "/_emulator/posters":
            let list = posters.keys.sorted().map { #"{"sha256":"\#($0)","size":\#(posters[$0]?.count ?? 0)}"# }
            return .json(200, "[" + list.joined(separator: ",") + "]")
        case let path where path.hasPrefix("/_emulator/posters/"):
            guard let bytes = posters[String(path.dropFirst("/_emulator/posters/".count))] else {
                return .json(404, #"{"error":"no such poster"}"#)
            }
            return .json(200, #"{"size":\#(bytes.count),"data":"\#(Data(bytes).base64EncodedString())"}"#)
        case "/_emulator/feishu/apps":
            return feishuApps.summary
        case "/_emulator/healthz":
            return .respond(status: 200, headers: [:], body: "ok\n")
        default:
            return .json(404, #"{"error":"not found"}"#)
        }
    }

    static let noPlatform = EmulatedAction.json(404, #"{"error":"no emulated platform at this path"}"#)

    /// Records a request for `label` and what it got, and passes the action on.
    private func note(_ action: EmulatedAction, for label: String, at now: Date, injected: Bool) -> EmulatedAction {
        var status: Int?
        if case .respond(let code, _, _) = action { status = code }
        requestLog.append(EmulatedRequestRecord(group: label, receivedAt: now, status: status, injected: injected))
        requestsByGroup[label, default: 0] += 1
        return action
    }

    private func platform(for request: EmulatedRequest) -> (any PlatformEmulation)? {
        // Exact bot matches first (a configured generic path), then the first platform claiming the path. Without
        // a config (the benchmark receiver) there is no bot to match.
        for platform in platforms where !groupsByBot.isEmpty && groupsByBot[platform.botKey(of: request)] != nil {
            return platform
        }
        return platforms.first { $0.accepts(request) }
    }

    private func timestamp(_ date: Date) -> String {
        date.formatted(timeStyle)
    }
}
