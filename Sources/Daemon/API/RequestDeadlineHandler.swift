import Fanout
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// Closes an API connection that doesn't deliver a complete request in time: its headers within `limit` of the
/// connection opening (or of the previous answer, which also bounds an idle keep-alive connection), and then its
/// body within `limit` of the headers. A client trickling a byte at a time can't hold a descriptor for longer.
///
/// Sits after the HTTP decoder (Hummingbird's `additionalChannelHandlers`), so it sees request heads and ends; a
/// request being answered is never timed out here. While the API is crowded (``OpenConnections/isCrowded``) it
/// also ends keep-alive: the request is marked `Connection: close` (Hummingbird then closes after the answer) and so
/// is the answer, so idle connections don't hold the slots that waiting clients need.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limit: TimeAmount
    private let events: BurstLog
    private let connections: OpenConnections
    /// The request being answered was marked `Connection: close`.
    private var closing = false
    private var deadline: Scheduled<Void>?
    /// Requests read completely and not yet answered.
    private var answering = 0
    /// What the connection owes when the deadline passes, for the log.
    private var awaited = "a request"

    init(limit: TimeAmount, events: BurstLog, connections: OpenConnections) {
        self.limit = limit
        self.events = events
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, awaiting: "a request") }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        if deadline == nil { arm(context, awaiting: "a request") }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            arm(context, awaiting: "the request body")
            if connections.isCrowded {
                closing = true
                head.headerFields[.connection] = "close"
                context.fireChannelRead(wrapInboundOut(.head(head)))
                return
            }
        case .body: break
        case .end:
            answering += 1
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where closing:
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        case .end:
            answering = max(0, answering - 1)
            if answering == 0 { arm(context, awaiting: "a request") }
        default: break
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, awaiting what: String) {
        disarm()
        awaited = what
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [self] in
            deadline = nil
            events.hit(["waited_for": "\(awaited)"])
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
