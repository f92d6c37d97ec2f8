import Foundation
import NIOCore
import NIOHTTP1

/// Collects one request, lets the state decide, and answers, hangs or drops the connection.
///
/// Answers are written as HTTP/1.1 bytes right behind the request decoder. As the benchmark receiver
/// (`--blackhole`) it keeps no body and remembers its last answer per connection (a sender repeats its requests'
/// method and path), so it takes as little as it can of the CPU it shares with the sender being measured.
final class EmulatorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private let state: NIOLoopBound<EmulatorState>
    private let delay: TimeAmount
    private let blackhole: Bool
    private let clock: @Sendable () -> Date
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var bodyLimit = EmulatorHandler.maxBody
    private static let maxBody = 1 << 20
    /// WeCom's media upload takes files of up to 20 MB, in a multipart form.
    private static let maxUpload = (20 << 20) + (64 << 10)
    /// Blackhole mode: the last answer to a platform's path, and what it answered.
    private var lastBlackholed: (method: HTTPMethod, path: String, keepAlive: Bool, accepted: Bool, bytes: ByteBuffer)?

    init(
        state: NIOLoopBound<EmulatorState>, delay: TimeAmount, blackhole: Bool, clock: @escaping @Sendable () -> Date
    ) {
        self.state = state
        self.delay = delay
        self.blackhole = blackhole
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            bodyLimit = head.uri.hasPrefix("/cgi-bin/media/upload") ? Self.maxUpload : Self.maxBody
        case .body(var buffer):
            if !blackhole, body.count < bodyLimit, let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes.prefix(bodyLimit - body.count)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            handle(head, context: context)
        }
    }

    /// A request the decoder cannot read gets a 400 and the connection is closed, as a server would.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let answer = EmulatedAction.respond(status: 400, headers: [:], body: "")
        write(answer.encoded(keepAlive: false), keepAlive: false, to: context)
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        let action: EmulatedAction
        if head.method == .GET && !EmulatorState.handlesGET(head.uri) {
            action = state.value.control(head.uri)
        } else if blackhole {
            answer(blackholed(head, keepAlive: keepAlive), keepAlive: keepAlive, context: context)
            return
        } else {
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let request = EmulatedRequest(method: head.method.rawValue, uri: head.uri, headers: headers, body: body)
            action = state.value.handle(request, now: clock())
        }
        switch action {
        case .respond:
            answer(action.encoded(keepAlive: keepAlive), keepAlive: keepAlive, context: context)
        case .hang:
            break
        case .reset:
            context.close(promise: nil)
        }
    }

    /// The platform's success for a blackholed request, counted; the same bytes as last time when the method and
    /// path are the same and nothing else can change the answer.
    private func blackholed(_ head: HTTPRequestHead, keepAlive: Bool) -> ByteBuffer {
        let state = state.value
        let path = head.uri.utf8.prefix { $0 != UInt8(ascii: "?") }
        if let last = lastBlackholed, last.method == head.method, last.keepAlive == keepAlive,
            last.path.utf8.elementsEqual(path)
        {
            state.countBlackholed(accepted: last.accepted)
            return last.bytes
        }
        let request = EmulatedRequest(method: head.method.rawValue, uri: head.uri, headers: [:], body: [])
        let action = state.blackholeAnswer(request)
        state.countBlackholed(accepted: action != nil)
        let bytes = (action ?? EmulatorState.noPlatform).encoded(keepAlive: keepAlive)
        if state.blackholeAnswersByPath {
            lastBlackholed = (head.method, request.path, keepAlive, action != nil, bytes)
        }
        return bytes
    }

    /// Writes an answer now, or after the delay (a slow platform: the message was accepted, the answer comes later).
    private func answer(_ bytes: ByteBuffer, keepAlive: Bool, context: ChannelHandlerContext) {
        guard delay > .zero else { return write(bytes, keepAlive: keepAlive, to: context) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: delay) {
            bound.value.0.write(bytes, keepAlive: keepAlive, to: bound.value.1)
        }
    }

    private func write(_ bytes: ByteBuffer, keepAlive: Bool, to context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

extension EmulatedAction {
    /// A `.respond` answer as HTTP/1.1 bytes, with its content length and, unless the connection is kept alive,
    /// `connection: close`; an empty buffer for the others.
    func encoded(keepAlive: Bool) -> ByteBuffer {
        guard case .respond(let status, let fields, let text) = self else { return ByteBuffer() }
        var lines = "HTTP/1.1 \(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)\r\n"
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { lines += "\(name): \(value)\r\n" }
        lines += "content-length: \(text.utf8.count)\r\n"
        if !keepAlive { lines += "connection: close\r\n" }
        return ByteBuffer(string: lines + "\r\n" + text)
    }
}
