import Foundation
import GridcastCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The chat platforms' webhook endpoints on a local port, for the demo, the tests and rehearsals.
///
/// Runs on one SwiftNIO event loop that owns all emulator state. Besides the platforms' paths it answers
/// `GET /_emulator/messages` (every accepted message as JSON), `GET /_emulator/stats` (request and accepted counts,
/// and requests per group under `groups`) and `GET /_emulator/healthz`.
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
    ///   - faults: failures to inject per group.
    ///   - log: receives a line per accepted or refused message.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        groups: [Group] = [],
        faults: FaultPlan = FaultPlan(),
        enforceRateLimits: Bool = true,
        responseDelay: Duration = .zero,
        blackhole: Bool = false,
        clock: @escaping @Sendable () -> Date = { Date() },
        log: (@Sendable (String) -> Void)? = nil
    ) async throws -> EmulatorServer {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let state = try await eventLoop.submit {
            NIOLoopBound(
                EmulatorState(
                    groups: groups, faults: faults, enforceRateLimits: enforceRateLimits, blackhole: blackhole, log: log
                ),
                eventLoop: eventLoop
            )
        }.get()
        let channel = try await ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        EmulatorHandler(
                            state: state, delay: .nanoseconds(Int64(responseDelay.nanoseconds)), clock: clock
                        )
                    )
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

    /// Stops listening and closes the server channel.
    public func stop() async throws {
        try await channel.close()
    }
}

/// Collects one request, lets the state decide, and answers, hangs or drops the connection.
private final class EmulatorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: NIOLoopBound<EmulatorState>
    private let delay: TimeAmount
    private let clock: @Sendable () -> Date
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private static let maxBody = 1 << 20

    init(state: NIOLoopBound<EmulatorState>, delay: TimeAmount, clock: @escaping @Sendable () -> Date) {
        self.state = state
        self.delay = delay
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            if body.count < Self.maxBody, let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes.prefix(Self.maxBody - body.count)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            handle(head, context: context)
        }
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        if head.method == .GET {
            respond(context, keepAlive: keepAlive, action: control(head.uri))
            return
        }
        var headers: [String: String] = [:]
        for (name, value) in head.headers { headers[name.lowercased()] = value }
        let request = EmulatedRequest(method: head.method.rawValue, uri: head.uri, headers: headers, body: body)
        let action = state.value.handle(request, now: clock())
        switch action {
        case .respond where delay > .zero:
            // A slow platform: the message is accepted now, the answer comes later.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: delay) {
                bound.value.0.respond(bound.value.1, keepAlive: keepAlive, action: action)
            }
        case .respond:
            respond(context, keepAlive: keepAlive, action: action)
        case .hang:
            break
        case .reset:
            context.close(promise: nil)
        }
    }

    private func control(_ uri: String) -> EmulatedAction {
        switch uri {
        case "/_emulator/messages":
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let data = (try? encoder.encode(state.value.received)) ?? Data("[]".utf8)
            return .json(200, String(decoding: data, as: UTF8.self))
        case "/_emulator/stats":
            let stats = state.value
            let groups =
                (try? JSONSerialization.data(withJSONObject: stats.requestsByGroup, options: [.sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return .json(
                200, #"{"requests":\#(stats.requests),"accepted":\#(stats.acceptedCount),"groups":\#(groups)}"#)
        case "/_emulator/healthz":
            return .respond(status: 200, headers: [:], body: "ok\n")
        default:
            return .json(404, #"{"error":"not found"}"#)
        }
    }

    private func respond(_ context: ChannelHandlerContext, keepAlive: Bool, action: EmulatedAction) {
        guard case .respond(let status, let fields, let text) = action else { return }
        var headers = HTTPHeaders()
        for (name, value) in fields { headers.add(name: name, value: value) }
        headers.add(name: "content-length", value: String(text.utf8.count))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !text.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
