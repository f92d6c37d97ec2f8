import Foundation
import GridcastCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The chat platforms' webhook endpoints on a local port, for the demo, the tests and rehearsals.
///
/// Runs on one SwiftNIO event loop that owns all emulator state. Besides the platforms' paths it answers
/// `GET /_emulator/messages` (every accepted message as JSON), `GET /_emulator/posters` (the uploaded images:
/// sha256 and size; `/_emulator/posters/SHA256` gives one's bytes in Base64), `GET /_emulator/stats` (request and
/// accepted counts, and requests per group under `groups`) and `GET /_emulator/healthz`; WeCom's customer-contact
/// API has its own under `/_emulator/wecom/` (confirm, leave, sent-by-hand, expire-tokens, trusted-ip,
/// tasks).
public final class EmulatorServer: Sendable {
    /// The bound port (useful when started on port 0).
    public let port: Int
    private let channel: any Channel
    private let state: NIOLoopBound<EmulatorState>
    private let eventLoop: any EventLoop

    private init(port: Int, channel: any Channel, state: NIOLoopBound<EmulatorState>, eventLoop: any EventLoop) {
        self.port = port
        self.channel = channel
        self.state = state
        self.eventLoop = eventLoop
    }

    /// Binds and starts serving.
    ///
    /// - Parameters:
    ///   - groups: the groups of a gridcast config: requests for other bots are refused as the platform would,
    ///     and signatures are checked with their secrets. Empty: accept any bot, check no signature.
    ///   - wecomApps: the WeCom customer-contact apps whose tokens, customer groups (the `groups` with sink
    ///     `wecom-customer-group`) and mass-message tasks the emulator plays. Empty: any corpid and secret get a
    ///     token, and the chats a sender names become its groups.
    ///   - faults: failures to inject per group (or WeCom app); with `groups`, a fault for a group not among them is
    ///     refused (``FaultPlan/Failure``).
    ///   - timeZone: the zone of the log's times (the config's `timezone`).
    ///   - log: receives a line per accepted or refused message.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        groups: [Group] = [],
        wecomApps: [WeComApp] = [],
        faults: FaultPlan = FaultPlan(),
        enforceRateLimits: Bool = true,
        responseDelay: Duration = .zero,
        blackhole: Bool = false,
        clock: @escaping @Sendable () -> Date = { Date() },
        timeZone: TimeZone = .current,
        log: (@Sendable (String) -> Void)? = nil
    ) async throws -> EmulatorServer {
        try faults.check(groups: groups, apps: wecomApps)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let state = try await eventLoop.submit {
            NIOLoopBound(
                EmulatorState(
                    groups: groups, faults: faults, enforceRateLimits: enforceRateLimits, wecomApps: wecomApps,
                    timeZone: timeZone, now: clock(), log: log),
                eventLoop: eventLoop
            )
        }.get()
        let delay = TimeAmount.nanoseconds(responseDelay.nanoseconds)
        let channel = try await ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Only a decoder: answers go out as bytes, one request at a time.
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        EmulatorHandler(state: state, delay: delay, blackhole: blackhole, clock: clock))
                }
            }
            .bind(host: host, port: port)
            .get()
        return EmulatorServer(
            port: channel.localAddress?.port ?? port, channel: channel, state: state, eventLoop: eventLoop)
    }

    /// Every message accepted so far, in arrival order.
    public func received() async throws -> [ReceivedMessage] {
        try await eventLoop.submit { self.state.value.received }.get()
    }

    /// The bytes of a poster that arrived as an upload, by its lower-case hex sha256.
    public func poster(sha256: String) async throws -> [UInt8]? {
        try await eventLoop.submit { self.state.value.posters[sha256] }.get()
    }

    /// How many requests arrived, accepted or not.
    public func requestCount() async throws -> Int {
        try await eventLoop.submit { self.state.value.requests }.get()
    }

    /// Every request addressed to a bot so far, in arrival order, with the status it got.
    public func requestLog() async throws -> [EmulatedRequestRecord] {
        try await eventLoop.submit { self.state.value.requestLog }.get()
    }

    /// How many requests arrived for `group` (its id; a bot key when the emulator runs without a config).
    public func requestCount(group: String) async throws -> Int {
        try await eventLoop.submit { self.state.value.requestsByGroup[group, default: 0] }.get()
    }

    /// How many Feishu tenant tokens were issued and images uploaded so far.
    public func feishuAppCounts() async throws -> (tokens: Int, uploads: Int) {
        try await eventLoop.submit { self.state.value.feishuAppCounts }.get()
    }

    /// Ends every Feishu tenant token, as their two hours would.
    public func expireFeishuTokens() async throws {
        try await eventLoop.submit { self.state.value.expireFeishuTokens() }.get()
    }

    /// Stops listening and closes the server channel.
    public func stop() async throws {
        try await channel.close()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
