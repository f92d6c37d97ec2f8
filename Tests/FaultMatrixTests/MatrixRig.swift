import Emulator
import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Transport

/// The platforms gridcast posts to, each as one group set up the way an operator would: signing secrets and custom
/// keywords where the platform has them, and the platform's own published rate (no `rate:` override).
enum Platform: String, Sendable, CaseIterable, CustomStringConvertible {
    case wecom, dingtalk, feishu, lark, slack, telegram, discord, teams, generic

    var description: String { rawValue }

    /// The one group of a matrix run.
    var groupID: String { "\(rawValue)-1" }

    /// The group, on an emulator (or nothing) listening at `port`.
    func group(port: Int) -> Group {
        let base = "http://127.0.0.1:\(port)"
        switch self {
        case .wecom:
            return Group(
                id: groupID, name: "企业微信网格群", sink: "wecom", url: "\(base)/cgi-bin/webhook/send?key=fm-wecom-key")
        case .dingtalk:
            return Group(
                id: groupID, name: "钉钉网格群", sink: "dingtalk", url: "\(base)/robot/send?access_token=fm-ding-token",
                secret: "SECfault-matrix-ding", keyword: "反诈"
            )
        case .feishu:
            return Group(
                id: groupID, name: "飞书网格群", sink: "feishu", url: "\(base)/open-apis/bot/v2/hook/fm-feishu-token",
                secret: "fault-matrix-feishu", keyword: "反诈"
            )
        case .lark:
            return Group(
                id: groupID, name: "Lark group", sink: "lark", url: "\(base)/open-apis/bot/v2/hook/fm-lark-token",
                secret: "fault-matrix-lark"
            )
        case .slack:
            return Group(id: groupID, name: "Slack", sink: "slack", url: "\(base)/services/T0FM/B0FM/fmSlackToken")
        case .telegram:
            return Group(
                id: groupID, name: "Telegram", sink: "telegram", url: "\(base)/bot123456:ABCfaultmatrix/sendMessage",
                chatID: "-1001234"
            )
        case .discord:
            return Group(id: groupID, name: "Discord", sink: "discord", url: "\(base)/api/webhooks/4242/fmDiscordToken")
        case .teams:
            return Group(
                id: groupID, name: "Teams", sink: "teams",
                url: "\(base)/workflows/fm/triggers/manual/paths/invoke?api-version=1&sig=fmTeamsSig"
            )
        case .generic:
            var group = TestGroups.generic(groupID, port: port)
            group.rate = nil
            return group
        }
    }

    /// How long the emulator's named `rate-limit` fault (without `retry_after`) tells this platform's senders to
    /// wait: the errcode robots name no time, so gridcast pauses for `dispatch.rate_limit_pause`, except DingTalk,
    /// whose `130101` locks the robot for ten minutes.
    var namedRateLimitWait: Wait {
        switch self {
        case .wecom, .feishu, .lark: .pause
        case .dingtalk: .retryAfter(600)
        case .slack, .teams, .generic: .retryAfter(1)
        case .telegram: .retryAfter(3)
        case .discord: .retryAfter(2)
        }
    }
}

/// The wait an answer demands before the bot's next request.
enum Wait: Sendable, Equatable, CustomStringConvertible {
    /// No following request is expected.
    case none
    /// The answer names a time (`Retry-After`, Telegram's `retry_after`, Discord's float `retry_after`).
    case retryAfter(Double)
    /// A "too fast" answer naming no time: `dispatch.rate_limit_pause`.
    case pause
    /// A retryable failure naming no time: `dispatch.backoff`, doubled per attempt, ±20 %.
    case backoff

    var description: String {
        switch self {
        case .none: "-"
        case .retryAfter(let seconds): "wait \(seconds.formatted())s"
        case .pause: "pause"
        case .backoff: "backoff"
        }
    }

    /// The seconds allowed between the `attempt`-th failing answer and the next request: never less than the
    /// answer asked for, and not much more (the bot's pacing slot may add up to its spacing).
    func bounds(afterAttempt attempt: Int) -> ClosedRange<Double> {
        let slack = MatrixRig.maxSpacing + 0.5
        switch self {
        case .none:
            return 0...Double.infinity
        case .retryAfter(let seconds):
            return seconds...(seconds + slack)
        case .pause:
            return MatrixRig.rateLimitPause...(MatrixRig.rateLimitPause + slack)
        case .backoff:
            let base = MatrixRig.backoff * pow(2, Double(attempt - 1))
            return (0.8 * base)...(1.2 * base + slack)
        }
    }
}

/// One matrix run: an emulator on loopback playing `platform` with planned faults, a SQLite ledger in a temporary
/// directory, the real libcurl transport, and a dispatcher and emulator sharing one virtual clock — so minutes of
/// back-off and pauses pass at once, and the emulator's receive times are comparable with what each answer asked.
struct MatrixRig: Sendable {
    /// `dispatch.attempts`.
    static let attempts = 4
    /// `dispatch.backoff`, seconds.
    static let backoff = 2.0
    /// `dispatch.rate_limit_pause`, seconds: longer than any `Retry-After` in the table, so a wait that ignored the
    /// platform's time would show.
    static let rateLimitPause = 60.0
    /// The largest pacing spacing of any platform's published rate (WeCom, DingTalk, Telegram: 20/min).
    static let maxSpacing = 3.0
    /// `dispatch.timeout` for rows that get an answer.
    static let timeout = Duration.seconds(3)

    let platform: Platform
    let server: EmulatorServer
    let store: SQLiteLedgerStore
    let transport: CurlTransport
    let config: GridcastConfig
    let clock: VirtualClock
    let directory: TemporaryDirectory

    /// Starts a run. `listening: false` points the group at a loopback port nothing listens on.
    static func start(
        _ platform: Platform,
        faults: [FaultPlan.Fault],
        timeout: Duration = MatrixRig.timeout,
        listening: Bool = true
    ) async throws -> MatrixRig {
        let clock = VirtualClock()
        let directory = try TemporaryDirectory("fault-matrix")
        let server = try await EmulatorServer.start(
            groups: [platform.group(port: 0)], faults: FaultPlan(faults: [platform.groupID: faults]),
            clock: { clock.now() }
        )
        // Port 1 on loopback: privileged and unused, so the connect is refused before any byte is written.
        let group = platform.group(port: listening ? server.port : 1)
        var config = GridcastConfig(file: "fault-matrix.yaml", groups: [group])
        config.ledger.path = directory.file("ledger.sqlite")
        config.dispatch.concurrency = 1
        config.dispatch.attempts = attempts
        config.dispatch.timeout = timeout
        config.dispatch.backoff = .milliseconds(Int64(backoff * 1000))
        config.dispatch.maxBackoff = .seconds(120)
        config.dispatch.rateLimitPause = .milliseconds(Int64(rateLimitPause * 1000))
        config.dispatch.inDoubt = .hold
        return MatrixRig(
            platform: platform, server: server, store: try SQLiteLedgerStore(path: config.ledger.path),
            transport: CurlTransport(), config: config, clock: clock, directory: directory
        )
    }

    /// Runs `body` on a started rig and always shuts it down.
    static func with<T: Sendable>(
        _ platform: Platform,
        faults: [FaultPlan.Fault],
        timeout: Duration = MatrixRig.timeout,
        listening: Bool = true,
        _ body: (MatrixRig) async throws -> T
    ) async throws -> T {
        let rig = try await start(platform, faults: faults, timeout: timeout, listening: listening)
        do {
            let result = try await body(rig)
            try await rig.close()
            return result
        } catch {
            try? await rig.close()
            throw error
        }
    }

    /// Plans `count` notices (`n0`, `n1`…) for the group, in order.
    func plan(_ count: Int = 1) async throws {
        let planner = Planner(config: config, sinks: .standard)
        for index in 0..<count {
            let notice = Notice(id: "n\(index)", title: "反诈提醒", text: "第\(index + 1)条：不回拨、不轻信、不点击、不透露、不转账")
            _ = try await store.plan(
                try planner.plan(notice, to: try Selector(parsing: "all"), origin: "test", now: clock.now())
            )
        }
    }

    /// A fresh dispatcher (as a new run would have) drains everything due.
    @discardableResult
    func drain() async throws -> DispatchProgress {
        try await Dispatcher(store: store, transport: transport, sinks: .standard, config: config, clock: clock)
            .drain(noticeID: nil)
    }

    /// The group's deliveries, by notice id.
    func deliveries() async throws -> [DeliveryRecord] {
        try await store.deliveries(changedFrom: .distantPast, to: .distantFuture).sorted { $0.noticeID < $1.noticeID }
    }

    /// Every request the emulator received for the group, in arrival order.
    func requests() async throws -> [EmulatedRequestRecord] {
        try await server.requestLog().filter { $0.group == platform.groupID }
    }

    /// Messages the group accepted (and would show).
    func received() async throws -> [ReceivedMessage] {
        try await server.received().filter { $0.group == platform.groupID }
    }

    /// Seconds of virtual time between consecutive requests.
    static func gaps(_ requests: [EmulatedRequestRecord]) -> [Double] {
        // In whole milliseconds, the ledger's resolution: a difference of two dates near 1.8e9 s carries errors of
        // ~1e-7 s, which made a wait of exactly 3.200 s read as 3.1999998 against a 3.2 s lower bound.
        zip(requests, requests.dropFirst()).map {
            ($1.receivedAt.timeIntervalSince($0.receivedAt) * 1000).rounded() / 1000
        }
    }

    func close() async throws {
        await transport.shutdown()
        try await server.stop()
        directory.remove()
    }
}
