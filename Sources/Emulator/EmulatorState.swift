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
    /// WeCom's customer-contact API: customer groups and their mass-message tasks.
    private let contact: WeComContactEmulation

    init(
        groups: [Group],
        faults: FaultPlan,
        enforceRateLimits: Bool,
        wecomApps: [WeComApp] = [],
        timeZone: TimeZone = .current,
        now: Date = Date(),
        log: (@Sendable (String) -> Void)?
    ) {
        contact = WeComContactEmulation(
            state: WeComContactState(apps: wecomApps, groups: groups, timeZone: timeZone, now: now))
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

    /// Whether a GET to `uri` is a platform's call (WeCom's `gettoken`) or a control request ``handle(_:now:)``
    /// answers, rather than one of ``control(_:)``'s.
    static func handlesGET(_ uri: String) -> Bool {
        let path = String(uri.prefix { $0 != "?" })
        return path.hasPrefix(WeComContactEmulation.controlPrefix) || WeComContactEmulation.call(of: path) != nil
    }

    func handle(_ request: EmulatedRequest, now: Date = Date()) -> EmulatedAction {
        if let outcome = contact.control(request, now: now) { return apply(outcome, now: now) }
        requests += 1
        if FeishuAppEmulation.accepts(request) {
            let action = feishuApps.handle(request)
            if case .respond(let status, _, let body) = action, request.path == FeishuAppEmulation.imagePath {
                log?("[\(timestamp(now))] feishu app: image upload answered HTTP \(status) \(body)")
            }
            return action
        }
        if WeComContactEmulation.call(of: request.path) != nil { return handleContact(request, now: now) }
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
        if let fault = takeFault(for: [label], carriesImage: { platform.carriesImage(request) }) {
            log?("[\(timestamp(now))] ⚡ \(label): injected fault \(fault)")
            if fault == .lostAnswer || fault == .doneThenHang {
                _ = serve(request, platform: platform, bot: bot, group: group, label: label, now: now)
                return fault == .lostAnswer ? lose(label, at: now) : note(.hang, for: label, at: now, injected: true)
            }
            let action = platform.answer(for: fault, to: request)
            lock(bot, platform: platform, after: action, now: now)
            return note(finish(action, platform: platform, bot: bot, now: now), for: label, at: now, injected: true)
        }
        return serve(request, platform: platform, bot: bot, group: group, label: label, now: now)
    }

    /// The next fault planned under the first of `keys` that has one to serve now (a `bad-image` fault waits for a
    /// request that carries an image), taken off its queue.
    private func takeFault(for keys: [String], carriesImage: () -> Bool) -> FaultPlan.Fault? {
        for key in keys {
            guard var queue = faults[key], let next = queue.first, next != .badImage || carriesImage() else { continue }
            queue.removeFirst()
            faults[key] = queue
            return next
        }
        return nil
    }

    /// Drops the answer to a request that was carried out (`lost-answer`), recording it as unanswered.
    private func lose(_ label: String, at now: Date) -> EmulatedAction {
        if requestLog.last?.group == label, requestsByGroup[label] != nil {
            requestLog.removeLast()
            requestsByGroup[label, default: 1] -= 1
        }
        return note(.reset, for: label, at: now, injected: true)
    }

    /// A call of WeCom's customer-contact API, with the faults planned for its app (`APP/CALL`, then `APP`).
    private func handleContact(_ request: EmulatedRequest, now: Date) -> EmulatedAction {
        let call = WeComContactEmulation.call(of: request.path) ?? ""
        let app = contact.app(of: request)
        let label = app ?? "wecom-contact"
        var unanswered: EmulatedAction?
        if let app,
            let fault = takeFault(for: [app + "/" + call, app], carriesImage: { contact.carriesImage(request) })
        {
            log?("[\(timestamp(now))] ⚡ \(app) \(call): injected fault \(fault)")
            if let action = contact.answer(for: fault) { return note(action, for: label, at: now, injected: true) }
            unanswered = fault == .doneThenHang ? .hang : .reset
        }
        let action = apply(contact.handle(request, now: now), now: now)
        if case .respond(_, _, let body) = action, !body.contains(#""errcode":0,"#) {
            log?("[\(timestamp(now))] ✗ \(label) \(call): \(body)")
        }
        if let unanswered { return note(unanswered, for: label, at: now, injected: true) }
        return note(action, for: label, at: now, injected: false)
    }

    /// Keeps what a customer-contact call left behind (posters, messages groups received) and passes its answer on.
    private func apply(_ outcome: WeComContactEmulation.Outcome, now: Date) -> EmulatedAction {
        for poster in outcome.posters { posters[poster.sha256] = poster.bytes }
        for message in outcome.delivered {
            received.append(message)
            acceptedCount += 1
            show(message, name: message.group, sink: message.sink, now: now)
        }
        return outcome.action
    }

    /// A request a platform's rules (rate limits, lockouts) and checks decide.
    private func serve(
        _ request: EmulatedRequest, platform: any PlatformEmulation, bot: String, group: Group?, label: String,
        now: Date
    ) -> EmulatedAction {
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
            show(message, name: group.map { "\($0.name) (\($0.id))" } ?? label, sink: platform.sink, now: now)
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
    /// Logs a message as the group would see it.
    private func show(_ message: ReceivedMessage, name: String, sink: String, now: Date) {
        let mention = message.mentionAll ? " @所有人" : ""
        var shown = message.text
        if let image = message.image {
            let source = image.url.map { " \($0)" } ?? ""
            shown +=
                (shown.isEmpty ? "" : "\n") + "[海报 poster \(image.size) B sha256 \(image.sha256.prefix(12))\(source)]"
        }
        if let card = message.card {
            shown += (shown.isEmpty ? "" : "\n") + "[卡片 card 「\(card.title)」 \(card.url)]"
        }
        log?("[\(timestamp(now))] → \(name) · \(sink)\(mention)\n\(shown)\n")
    }

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
