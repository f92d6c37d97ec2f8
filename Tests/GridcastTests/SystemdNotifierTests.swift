import Daemon
import Foundation
import GRDB
import GridcastTesting
import Testing

#if canImport(Glibc)
    import Glibc

    /// `sd_notify` against real `AF_UNIX` datagram sockets standing in for systemd's notify socket.
    @Suite("systemd notifier")
    struct SystemdNotifierTests {
        @Test("sends each notification as one datagram to a filesystem socket")
        func filesystemSocket() throws {
            let directory = try TemporaryDirectory("gridcast-notify")
            defer { directory.remove() }
            let listener = try NotifyListener(notifySocket: directory.file("notify.sock"))
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.notifySocket])
            #expect(notifier.isEnabled)

            #expect(notifier.ready(status: "today: 25 sent\n18 groups\r\n0 in_doubt"))
            #expect(listener.receive() == "READY=1\nSTATUS=today: 25 sent 18 groups  0 in_doubt")

            #expect(notifier.ready())
            #expect(listener.receive() == "READY=1")

            let before = monotonicMicroseconds()
            #expect(notifier.reloading())
            let after = monotonicMicroseconds()
            let reload = try #require(listener.receive())
            let lines = reload.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 2)
            #expect(lines.first == "RELOADING=1")
            let stamp = try #require(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? $0.dropFirst(15) : nil })
            let microseconds = try #require(UInt64(stamp))
            #expect(before <= microseconds && microseconds <= after)

            #expect(notifier.status("sending 7/18\nretrying 2"))
            #expect(listener.receive() == "STATUS=sending 7/18 retrying 2")

            #expect(notifier.watchdog())
            #expect(listener.receive() == "WATCHDOG=1")

            #expect(notifier.notify(["EXTEND_TIMEOUT_USEC": "30000000", "not a key": "x", "": "y", "ERRNO": "5"]))
            #expect(listener.receive() == "EXTEND_TIMEOUT_USEC=30000000\nERRNO=5")

            #expect(notifier.stopping())
            #expect(listener.receive() == "STOPPING=1")

            #expect(listener.receive() == nil)
        }

        @Test("gridcast serve asks for start-up time before it opens the ledger, then says it is ready")
        func serveExtendsTheStartTimeoutWhileTheLedgerOpens() async throws {
            let directory = try TemporaryDirectory("gridcast-notify-serve")
            defer { directory.remove() }
            let listener = try NotifyListener(notifySocket: directory.file("notify.sock"))
            let config = try directory.write(
                "serve.yaml",
                """
                ledger:
                  path: \(directory.file("ledger.sqlite"))
                groups:
                  - id: g1
                    sink: wecom
                    url: http://127.0.0.1:9/cgi-bin/webhook/send?key=k
                """
            )
            let serve = try GridcastProcess.start(
                ["serve", "--config", config], environment: ["NOTIFY_SOCKET": listener.notifySocket])
            var received: [String] = []
            while let message = listener.receive(within: .seconds(30)) {
                received.append(message)
                if message.hasPrefix("READY=1") { break }
            }
            serve.process.terminate()
            _ = try await serve.wait()
            #expect(received.first == "EXTEND_TIMEOUT_USEC=600000000\nSTATUS=opening the ledger")
            #expect(received.last?.hasPrefix("READY=1") == true, "\(received)")
        }

        @Test("serve withholds watchdog pings while the ledger takes no writes, and resumes when it does")
        func watchdogFollowsTheLedger() async throws {
            let directory = try TemporaryDirectory("gridcast-notify-watchdog")
            defer { directory.remove() }
            let listener = try NotifyListener(notifySocket: directory.file("notify.sock"))
            let ledger = directory.file("ledger.sqlite")
            let config = try directory.write(
                "serve.yaml",
                """
                ledger:
                  path: \(ledger)
                groups:
                  - id: g1
                    sink: wecom
                    url: http://127.0.0.1:9/cgi-bin/webhook/send?key=k
                """
            )
            let serve = try GridcastProcess.start(
                ["serve", "--config", config],
                environment: ["NOTIFY_SOCKET": listener.notifySocket, "WATCHDOG_USEC": "1000000"])
            defer { if serve.process.isRunning { serve.kill() } }
            // The datagrams up to the first `wanted` one, or all that came within a minute.
            func next(_ wanted: (String) -> Bool) -> [String] {
                var seen: [String] = []
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline, let message = listener.receive(within: .seconds(5)) {
                    seen.append(message)
                    if wanted(message) { break }
                }
                return seen
            }
            let started = next { $0 == "WATCHDOG=1" }
            #expect(started.last == "WATCHDOG=1", "\(started)")

            // Another process holds the ledger's write lock: nothing can be claimed or recorded.
            let holder = try WriteLockHolder(path: ledger)
            let stalled = next { $0.contains("watchdog withheld") }
            #expect(stalled.last?.contains("watchdog withheld") == true, "\(stalled)")
            // While it lasts, the daemon keeps saying so and sends no ping.
            var whileLocked: [String] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while whileLocked.filter({ $0.contains("watchdog withheld") }).count < 3, ContinuousClock.now < deadline,
                let message = listener.receive(within: .seconds(5))
            {
                whileLocked.append(message)
            }
            #expect(whileLocked.filter { $0.contains("watchdog withheld") }.count == 3, "\(whileLocked)")
            #expect(!whileLocked.contains("WATCHDOG=1"), "\(whileLocked)")

            holder.unlock()
            let resumed = next { $0 == "WATCHDOG=1" }
            #expect(resumed.last == "WATCHDOG=1", "\(resumed)")

            serve.process.terminate()
            let result = try await serve.wait()
            #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        }

        @Test("reaches a socket in the abstract namespace (@name)")
        func abstractSocket() throws {
            let listener = try NotifyListener(notifySocket: "@gridcast-test-\(UUID().uuidString.prefix(12))")
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.notifySocket])

            #expect(notifier.ready(status: "ready"))
            #expect(listener.receive() == "READY=1\nSTATUS=ready")
            #expect(notifier.watchdog())
            #expect(listener.receive() == "WATCHDOG=1")
            #expect(notifier.stopping())
            #expect(listener.receive() == "STOPPING=1")
            #expect(listener.receive() == nil)
        }

        @Test(
            "without a usable NOTIFY_SOCKET every call is a no-op",
            arguments: [[:], ["NOTIFY_SOCKET": ""], ["NOTIFY_SOCKET": "relative/notify.sock"], ["NOTIFY_SOCKET": "@"]]
                as [[String: String]]
        )
        func disabled(environment: [String: String]) {
            let notifier = SystemdNotifier(environment: environment)
            #expect(!notifier.isEnabled)
            #expect(!notifier.ready(status: "ready"))
            #expect(!notifier.reloading())
            #expect(!notifier.status("idle"))
            #expect(!notifier.watchdog())
            #expect(!notifier.stopping())
            #expect(!notifier.notify(["READY": "1"]))
        }

        @Test("a socket nobody listens on fails quietly")
        func nobodyListening() throws {
            let directory = try TemporaryDirectory("gridcast-notify")
            defer { directory.remove() }
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": directory.file("missing.sock")])
            #expect(notifier.isEnabled)
            #expect(!notifier.ready(status: "ready"))
            #expect(!notifier.watchdog())
        }

        @Test("watchdog interval is half of WATCHDOG_USEC, for this process only")
        func watchdogInterval() {
            #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000"]).watchdogInterval == .seconds(5))
            #expect(
                SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "\(getpid())"])
                    .watchdogInterval == .seconds(5))
            #expect(
                SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "\(getppid())"])
                    .watchdogInterval == nil)
            #expect(
                SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "self"]).watchdogInterval
                    == nil)
            #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "1"]).watchdogInterval == .microseconds(1))
            #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
            #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval == nil)
            #expect(SystemdNotifier(environment: [:]).watchdogInterval == nil)
        }
    }

    /// Holds a ledger's write lock from another connection (on a thread of its own, as a second process would)
    /// until ``unlock()``.
    private final class WriteLockHolder: @unchecked Sendable {
        private let taken = DispatchSemaphore(value: 0)
        private let release = DispatchSemaphore(value: 0)

        init(path: String) throws {
            let queue = try DatabaseQueue(path: path)
            let (taken, release) = (taken, release)
            Thread.detachNewThread {
                try? queue.inDatabase { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    taken.signal()
                    release.wait()
                    try db.execute(sql: "ROLLBACK")
                }
            }
            taken.wait()
        }

        func unlock() { release.signal() }
    }

    /// `CLOCK_MONOTONIC` in microseconds, read independently of the notifier.
    private func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// A bound `AF_UNIX` datagram socket, the test's stand-in for systemd's `/run/systemd/notify`.
    private final class NotifyListener {
        /// What to put into `NOTIFY_SOCKET`: a path, or `@name` for the abstract namespace.
        let notifySocket: String
        private let descriptor: Int32

        struct Failure: Error, CustomStringConvertible {
            let description: String
        }

        init(notifySocket: String) throws {
            self.notifySocket = notifySocket
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }

            // `sun_path` bytes: an abstract name is a NUL and the name; a path is NUL-terminated.
            var pathBytes = Array(notifySocket.utf8)
            if notifySocket.hasPrefix("@") { pathBytes[0] = 0 } else { pathBytes.append(0) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            guard pathBytes.count <= MemoryLayout.size(ofValue: address.sun_path) else {
                close(descriptor)
                throw Failure(description: "socket path too long: \(notifySocket)")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
            }
            guard bound == 0 else {
                let code = errno
                close(descriptor)
                throw Failure(description: "bind \(notifySocket): errno \(code)")
            }
        }

        /// The next queued datagram, or `nil` if none is waiting. A datagram sent to an `AF_UNIX` socket is queued
        /// before `sendto` returns, so there is nothing to wait for.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            guard count >= 0 else { return nil }
            return String(decoding: buffer.prefix(count), as: UTF8.self)
        }

        /// The next datagram, waiting for it up to `timeout`; `nil` if none came.
        func receive(within timeout: Duration) -> String? {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Int32(timeout.components.seconds * 1000)) == 1 else { return nil }
            return receive()
        }

        deinit {
            close(descriptor)
            if !notifySocket.hasPrefix("@") { unlink(notifySocket) }
        }
    }
#endif
