import CCurl
import CCurlShim
import Foundation
import Synchronization

/// A ``Transport`` over libcurl: many transfers at once through one `curl_multi` handle driven by one thread.
///
/// The multi handle keeps connections alive and reuses them, multiplexes HTTP/2 streams when a server offers
/// h2 over TLS, and limits open connections to ``Configuration/maxConnections``. Each transfer is limited to
/// http/https, never follows redirects, verifies TLS peers and host names, and keeps at most
/// ``HTTPRequest/responseLimit`` bytes of the response body.
///
/// libcurl is not thread-safe per handle, so every easy and multi call except `curl_multi_wakeup` happens
/// on the event-loop thread; other threads only hand it work through a mutex-protected queue.
public final class CurlTransport: Transport, Sendable {
    /// Settings for the shared connection pool.
    public struct Configuration: Sendable {
        /// The most connections open at once (`CURLMOPT_MAX_TOTAL_CONNECTIONS`).
        public var maxConnections: Int
        /// The `User-Agent` header sent with every request.
        public var userAgent: String
        /// The longest a connect (TCP + TLS) may take, never more than the request's own timeout.
        public var connectTimeout: Duration

        /// Creates a configuration.
        public init(
            maxConnections: Int = 64, userAgent: String = "gridcast/0.1", connectTimeout: Duration = .seconds(10)
        ) {
            self.maxConnections = maxConnections
            self.userAgent = userAgent
            self.connectTimeout = connectTimeout
        }
    }

    private struct Shared {
        var submitted: [Transfer] = []
        /// A wakeup was sent and the loop has not taken the queue since: further submissions need none.
        var wakePending = false
        var stopping = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var stopped = false
    }

    private let shared = Mutex(Shared())
    // The multi handle is used only on the loop thread, except `curl_multi_wakeup`, which libcurl allows from any thread.
    private nonisolated(unsafe) let multi: UnsafeMutableRawPointer
    private let configuration: Configuration

    /// Starts the event-loop thread. Call ``shutdown()`` when done.
    public init(configuration: Configuration = Configuration()) {
        CurlGlobal.initializeOnce()
        self.configuration = configuration
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        _ = gc_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, configuration.maxConnections)
        _ = gc_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(configuration.maxConnections, 16))
        _ = gc_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        let loop = EventLoop(multi: multi, configuration: configuration)
        let thread = Thread { [self] in
            loop.run(transport: self)
        }
        thread.name = "gridcast-curl"
        thread.start()
    }

    public func send(_ request: HTTPRequest) async -> Result<HTTPResponse, TransportError> {
        await withCheckedContinuation { continuation in
            let transfer = Transfer(request: request, continuation: continuation)
            let (accepted, wake) = shared.withLock { shared -> (Bool, Bool) in
                guard !shared.stopping else { return (false, false) }
                shared.submitted.append(transfer)
                defer { shared.wakePending = true }
                return (true, !shared.wakePending)
            }
            if wake {
                curl_multi_wakeup(multi)
            }
            if !accepted {
                continuation.resume(
                    returning: .failure(TransportError(kind: .notSent, code: 0, reason: "transport is shut down"))
                )
            }
        }
    }

    /// Stops accepting requests, lets the ones in flight finish, and ends the event-loop thread.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = shared.withLock { shared -> Bool in
                shared.stopping = true
                if shared.stopped { return true }
                shared.stopWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { curl_multi_wakeup(multi) }
        }
    }

    /// Takes the requests handed over since the last call, and whether a stop was asked for.
    fileprivate func takeSubmitted() -> (transfers: [Transfer], stopping: Bool) {
        shared.withLock { shared in
            defer {
                shared.submitted.removeAll(keepingCapacity: true)
                shared.wakePending = false
            }
            return (shared.submitted, shared.stopping)
        }
    }

    fileprivate func markStopped() {
        let waiters = shared.withLock { shared in
            shared.stopped = true
            defer { shared.stopWaiters = [] }
            return shared.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    deinit {
        // Only here, when no caller can reach `curl_multi_wakeup` any more, is the multi handle freed.
        curl_multi_cleanup(multi)
    }
}

/// `curl_global_init` exactly once per process, before any other libcurl call.
enum CurlGlobal {
    private static let once: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    static func initializeOnce() {
        precondition(once, "curl_global_init failed")
    }
}

/// The loop that owns the multi handle; it lives on its own thread and touches nothing shared but the queue.
private final class EventLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let configuration: Configuration
    private var idleHandles: [UnsafeMutableRawPointer] = []
    /// Transfers in flight by easy handle; this dictionary is what keeps each `Transfer` alive while libcurl
    /// holds an unretained pointer to it.
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]

    typealias Configuration = CurlTransport.Configuration

    init(multi: UnsafeMutableRawPointer, configuration: Configuration) {
        self.multi = multi
        self.configuration = configuration
    }

    func run(transport: CurlTransport) {
        var running: Int32 = 0
        while true {
            let (transfers, stopping) = transport.takeSubmitted()
            for transfer in transfers { start(transfer) }
            if stopping && active.isEmpty { break }
            curl_multi_perform(multi, &running)
            collectFinished()
            if !active.isEmpty || transfers.isEmpty {
                curl_multi_poll(multi, nil, 0, 1000, nil)
            }
        }
        for handle in idleHandles { curl_easy_cleanup(handle) }
        idleHandles = []
        transport.markStopped()
    }

    private func start(_ transfer: Transfer) {
        guard let handle = idleHandles.popLast() ?? newHandle() else {
            transfer.finish(.failure(TransportError(kind: .notSent, code: 27, reason: "out of memory")))
            return
        }
        transfer.handle = handle
        if let failure = configure(handle, for: transfer) {
            transfer.finish(.failure(failure))
            recycle(transfer)
            return
        }
        let added = curl_multi_add_handle(multi, handle)
        guard added == CURLM_OK else {
            transfer.finish(
                .failure(
                    TransportError(kind: .notSent, code: 0, reason: "curl_multi_add_handle failed (\(added.rawValue))"))
            )
            recycle(transfer)
            return
        }
        active[handle] = transfer
    }

    /// Whether `url` is https (the scheme in any case).
    static func isTLS(_ url: String) -> Bool {
        url.utf8.prefix(8).lazy.map { $0 | 0x20 }.elementsEqual("https://".utf8)
    }

    /// A new easy handle with the options every transfer shares, or nil when libcurl refuses one (out of memory).
    ///
    /// They are set once, not reset and set again for each transfer: a handle keeps its options from one transfer
    /// to the next, and ``configure(_:for:)`` sets every option that differs between requests.
    private func newHandle() -> UnsafeMutableRawPointer? {
        guard let handle = curl_easy_init() else { return nil }
        let codes: [CURLcode] = [
            gc_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            gc_easy_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),
            gc_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0),
            gc_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            gc_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1),
            gc_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2),
            gc_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)),
            gc_easy_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent),
            gc_easy_setopt_write_function(handle, curlWriteBody),
            gc_easy_setopt_header_function(handle, curlWriteHeader),
        ]
        guard codes.allSatisfy({ $0 == CURLE_OK }) else {
            curl_easy_cleanup(handle)
            return nil
        }
        return handle
    }

    /// Applies every option that differs between requests; returns an error when libcurl refuses one.
    private func configure(_ handle: UnsafeMutableRawPointer, for transfer: Transfer) -> TransportError? {
        let request = transfer.request
        let timeoutMS = max(1, Int(request.timeout.milliseconds))
        let connectMS = min(timeoutMS, max(1, Int(configuration.connectTimeout.milliseconds)))
        let box = Unmanaged.passUnretained(transfer).toOpaque()
        var codes: [CURLcode] = [
            gc_easy_setopt_string(handle, CURLOPT_URL, request.url),
            // Waiting to learn whether a connection multiplexes pays only over TLS, where ALPN answers it in the
            // handshake. Plain http (loopback only) is always HTTP/1.1, and there the wait held every other transfer
            // to the host until the first one's answer: behind a hung request, until its timeout.
            gc_easy_setopt_long(handle, CURLOPT_PIPEWAIT, Self.isTLS(request.url) ? 1 : 0),
            gc_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMS),
            gc_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectMS),
            gc_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, box),
            gc_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, box),
            // libcurl resends a request by itself when a reused connection dies before any answer; for a webhook
            // that may have posted the first copy, that is a duplicate. The second start is refused instead.
            gc_easy_setopt_prereq_function(handle, curlBeforeRequest, box),
        ]
        // The method, and nothing left over from the handle's previous request: a custom method is cleared for a
        // POST, and a GET drops the body options a POST set.
        switch request.method {
        case "POST":
            codes.append(gc_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, nil))
            codes.append(gc_easy_setopt_long(handle, CURLOPT_POST, 1))
        case "GET":
            codes.append(gc_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, nil))
            codes.append(gc_easy_setopt_long(handle, CURLOPT_HTTPGET, 1))
        default:
            codes.append(gc_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if request.method != "GET" {
            codes.append(gc_easy_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            if request.body.isEmpty {
                codes.append(gc_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                codes.append(
                    request.body.withUnsafeBytes { bytes in
                        gc_easy_setopt_pointer(
                            handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                    }
                )
            }
        }
        // "Expect:" stops libcurl from waiting for a 100-continue on larger bodies.
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for header in request.headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        transfer.headerList = list
        codes.append(gc_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list)))
        if let bad = codes.first(where: { $0 != CURLE_OK }) {
            return TransportError(kind: .notSent, code: Int(bad.rawValue), reason: CurlError.text(bad))
        }
        return nil
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let result = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            guard let transfer = active.removeValue(forKey: handle) else { continue }
            transfer.finish(outcome(of: handle, result: result, transfer: transfer))
            recycle(transfer)
        }
    }

    private func outcome(
        of handle: UnsafeMutableRawPointer, result: CURLcode, transfer: Transfer
    )
        -> Result<HTTPResponse, TransportError>
    {
        // A body over the cap ends the transfer early (the write callback refuses the rest): the answer itself was
        // complete enough to classify, so it is a response, not a failure.
        if result == CURLE_OK || (result == CURLE_WRITE_ERROR && transfer.truncated) {
            var status = 0
            _ = gc_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return .success(
                HTTPResponse(
                    status: status,
                    fields: transfer.responseFields,
                    body: transfer.responseBody,
                    truncated: transfer.truncated
                )
            )
        }
        var requestSize = 0
        var pretransfer: curl_off_t = 0
        _ = gc_easy_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &requestSize)
        _ = gc_easy_getinfo_offset(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
        if transfer.requestStarts > 1 {
            return .failure(
                TransportError(
                    kind: .outcomeUnknown, code: Int(result.rawValue),
                    reason: "connection closed after the request was sent, before any answer (not resent)"
                )
            )
        }
        let kind = CurlError.classify(result, requestWritten: requestSize > 0 || pretransfer > 0)
        var osError = 0
        _ = gc_easy_getinfo_long(handle, CURLINFO_OS_ERRNO, &osError)
        if kind == .notSent && CurlError.outOfDescriptors(osError: Int32(clamping: osError)) {
            return .failure(
                TransportError(
                    kind: .notSent, code: Int(result.rawValue),
                    reason: "\(CurlError.text(result)): no file descriptor left for a connection (EMFILE)",
                    outOfDescriptors: true))
        }
        return .failure(TransportError(kind: kind, code: Int(result.rawValue), reason: CurlError.text(result)))
    }

    private func recycle(_ transfer: Transfer) {
        if let list = transfer.headerList { curl_slist_free_all(list) }
        transfer.headerList = nil
        if let handle = transfer.handle {
            // The handle outlives the list: it must not point at freed memory while idle.
            _ = gc_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, nil)
            if idleHandles.count < configuration.maxConnections * 2 {
                idleHandles.append(handle)
            } else {
                curl_easy_cleanup(handle)
            }
        }
        transfer.handle = nil
    }
}

/// One request on its way: the libcurl-side state plus the continuation to resume when it ends.
/// Touched only by the event-loop thread once submitted.
final class Transfer: @unchecked Sendable {
    let request: HTTPRequest
    private var continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>?
    var handle: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var responseBody: [UInt8] = []
    var responseFields = HeaderFields()
    var truncated = false
    /// How many times libcurl began writing this request (more than once only when it tried to resend it).
    var requestStarts = 0

    init(request: HTTPRequest, continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>) {
        self.request = request
        self.continuation = continuation
    }

    func finish(_ result: Result<HTTPResponse, TransportError>) {
        continuation?.resume(returning: result)
        continuation = nil
    }

    func appendBody(_ bytes: UnsafeRawBufferPointer) {
        let room = request.responseLimit - responseBody.count
        if bytes.count > room { truncated = true }
        if room > 0 { responseBody.append(contentsOf: bytes.prefix(room)) }
    }
}

private func curlWriteBody(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ user: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let data, let user else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    transfer.appendBody(UnsafeRawBufferPointer(start: data, count: length))
    // Past the cap, stop reading: a server streaming an endless body would otherwise hold the transfer (and its
    // claim) until the timeout and turn a plain answer into "outcome unknown".
    return transfer.truncated ? 0 : length
}

private func curlBeforeRequest(
    _ user: UnsafeMutableRawPointer?,
    _ primaryIP: UnsafeMutablePointer<CChar>?,
    _ localIP: UnsafeMutablePointer<CChar>?,
    _ primaryPort: Int32,
    _ localPort: Int32
) -> Int32 {
    guard let user else { return CURL_PREREQFUNC_OK }
    let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    transfer.requestStarts += 1
    return transfer.requestStarts == 1 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT
}

private func curlWriteHeader(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ user: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let data, let user else { return length }
    Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        .responseFields.append(line: UnsafeRawBufferPointer(start: data, count: length))
    return length
}

extension Duration {
    /// The duration in whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
