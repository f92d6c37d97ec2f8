import Foundation

#if canImport(Glibc)
    import Glibc
#endif
// With member import visibility, an optimized build attributes `timespec` to the module Dispatch imports it
// through; name that module too, so debug and release builds both see its members.
#if canImport(CDispatch)
    import CDispatch
#endif

/// Tells the service manager about the daemon's state: the `sd_notify` protocol, written out by hand.
///
/// When systemd starts a `Type=notify` service it puts the path of a datagram socket into `$NOTIFY_SOCKET`.
/// Each notification is one datagram of newline-separated `KEY=VALUE` assignments sent to that socket
/// (`READY=1`, `STATUS=…`, `WATCHDOG=1`, …). A path that starts with `@` names a socket in the abstract
/// namespace. Without `$NOTIFY_SOCKET` (run by hand, in tests, on other platforms) every call does nothing.
///
/// Sending never throws and never logs: a failed notification must not take the daemon down. Each call opens a
/// fresh socket, sends one non-blocking datagram and closes it, so the notifier holds no resources and is safe
/// to use from any task.
public struct SystemdNotifier: Sendable {
    /// The socket address bytes that go into `sun_path`: a path with its terminating NUL, or a NUL followed by
    /// an abstract name. `nil` when there is nowhere to send to.
    private let socketAddress: [UInt8]?
    /// `$WATCHDOG_USEC`, when it is a positive number.
    private let watchdogMicroseconds: UInt64?
    /// `$WATCHDOG_PID` as given (the process the watchdog is meant for), when set.
    private let watchdogPID: String?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    ///
    /// A `NOTIFY_SOCKET` that is neither an absolute path nor an `@abstract` name, or that does not fit into
    /// `sockaddr_un`, is ignored, so the notifier stays a no-op.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketAddress = environment["NOTIFY_SOCKET"].flatMap(Self.socketAddressBytes)
        watchdogMicroseconds = environment["WATCHDOG_USEC"].flatMap { UInt64($0) }.flatMap { $0 > 0 ? $0 : nil }
        watchdogPID = environment["WATCHDOG_PID"]
    }

    /// Whether `$NOTIFY_SOCKET` named a usable socket, that is, whether notifications are sent at all.
    public var isEnabled: Bool { socketAddress != nil }

    /// How often to call ``watchdog()``: half of `$WATCHDOG_USEC`, as `sd_watchdog_enabled` recommends.
    ///
    /// `nil` when the service manager did not ask for keep-alive pings, or when `$WATCHDOG_PID` names a process
    /// other than this one (the variable was inherited from a parent).
    public var watchdogInterval: Duration? {
        guard let watchdogMicroseconds else { return nil }
        if let watchdogPID {
            guard let pid = Int32(watchdogPID), pid == currentProcessID() else { return nil }
        }
        return .microseconds(Int64(clamping: max(watchdogMicroseconds / 2, 1)))
    }

    /// Startup is complete: sends `READY=1`, and `STATUS=` when `status` is given.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        var fields = [("READY", "1")]
        if let status { fields.append(("STATUS", status)) }
        return send(fields)
    }

    /// A configuration reload has begun: sends `RELOADING=1` with `MONOTONIC_USEC=` set to the current
    /// `CLOCK_MONOTONIC` time in microseconds (systemd uses it to tell this reload from an earlier one).
    /// Send ``ready(status:)`` once the reload is done.
    @discardableResult
    public func reloading() -> Bool {
        send([("RELOADING", "1"), ("MONOTONIC_USEC", String(Self.monotonicMicroseconds()))])
    }

    /// Shutdown has begun: sends `STOPPING=1`.
    @discardableResult
    public func stopping() -> Bool {
        send([("STOPPING", "1")])
    }

    /// A one-line, human-readable status shown by `systemctl status`: sends `STATUS=`.
    /// Line breaks in `text` become spaces.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send([("STATUS", text)])
    }

    /// Keep-alive ping for `WatchdogSec=`: sends `WATCHDOG=1`. Call it every ``watchdogInterval``.
    @discardableResult
    public func watchdog() -> Bool {
        send([("WATCHDOG", "1")])
    }

    /// Sends arbitrary assignments, in the order given, as one datagram (for example
    /// `["EXTEND_TIMEOUT_USEC": "30000000"]`).
    ///
    /// Keys must be non-empty and made of ASCII letters, digits and `_`; other keys are dropped. Line breaks and
    /// NUL characters in values become spaces.
    ///
    /// - Returns: `true` if the datagram was handed to the kernel; `false` if the notifier is disabled, nothing
    ///   valid was given, or sending failed.
    @discardableResult
    public func notify(_ fields: KeyValuePairs<String, String>) -> Bool {
        send(fields.map { ($0.key, $0.value) })
    }

    /// The datagram for `fields`: `KEY=value` lines joined by `\n`, invalid keys dropped, values made single-line.
    static func payload(_ fields: [(String, String)]) -> String {
        fields.compactMap { key, value -> String? in
            guard !key.isEmpty, key.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || isASCIIAlphanumeric($0) }) else {
                return nil
            }
            let singleLine = String(
                String.UnicodeScalarView(value.unicodeScalars.map { "\n\r\0".unicodeScalars.contains($0) ? " " : $0 })
            )
            return "\(key)=\(singleLine)"
        }.joined(separator: "\n")
    }

    private static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private func send(_ fields: [(String, String)]) -> Bool {
        guard let socketAddress else { return false }
        let payload = Self.payload(fields)
        guard !payload.isEmpty else { return false }
        return Self.sendDatagram(Array(payload.utf8), to: socketAddress)
    }
}

#if canImport(Glibc)
    extension SystemdNotifier {
        /// `NOTIFY_SOCKET` as `sun_path` bytes; `nil` if it is not an absolute path or `@name`, or is too long.
        static func socketAddressBytes(_ value: String) -> [UInt8]? {
            let text = Array(value.utf8)
            guard !text.contains(0) else { return nil }
            let address: [UInt8]
            switch text.first {
            case UInt8(ascii: "/"):
                address = text + [0]  // a filesystem path, NUL-terminated
            case UInt8(ascii: "@") where text.count > 1:
                address = [0] + text.dropFirst()  // the abstract namespace: a NUL, then the name, no terminator
            default: return nil
            }
            let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
            guard address.count <= capacity else { return nil }
            return address
        }

        /// `CLOCK_MONOTONIC` in microseconds, the clock systemd reads for `MONOTONIC_USEC`.
        static func monotonicMicroseconds() -> UInt64 {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        }

        private func currentProcessID() -> Int32 { getpid() }

        /// Sends one datagram to the `AF_UNIX` address `path` (`sun_path` bytes). Never blocks: if systemd's queue
        /// is full the notification is dropped rather than stalling the caller.
        private static func sendDatagram(_ payload: [UInt8], to path: [UInt8]) -> Bool {
            let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { return false }
            defer { close(descriptor) }

            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            // Copy the path into the fixed-size `sun_path` tuple; `socketAddressBytes` checked that it fits.
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
            // The address length covers exactly the bytes used: abstract names are not NUL-terminated, and a
            // trailing NUL would become part of the name.
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count)

            while true {
                // `sendto` takes a generic `sockaddr *`: view the `sockaddr_un` as one for the duration of the call.
                let sent = withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { addressPointer in
                        payload.withUnsafeBytes { bytes in
                            sendto(
                                descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT),
                                addressPointer, length)
                        }
                    }
                }
                if sent >= 0 { return sent == payload.count }
                if errno != EINTR { return false }
            }
        }
    }
#else
    extension SystemdNotifier {
        // systemd exists only on Linux; elsewhere the notifier is always a no-op.
        static func socketAddressBytes(_ value: String) -> [UInt8]? { nil }
        static func monotonicMicroseconds() -> UInt64 { 0 }
        private func currentProcessID() -> Int32 { ProcessInfo.processInfo.processIdentifier }
        private static func sendDatagram(_ payload: [UInt8], to path: [UInt8]) -> Bool { false }
    }
#endif
