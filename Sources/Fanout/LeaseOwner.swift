import Foundation

/// Who holds a claim: host, process id, the process's start time and a random nonce.
///
/// The start time makes a recycled pid harmless: a claim's owner is alive only if a process with that pid *and*
/// that start time exists on this host. That lets a new run take over a crashed run's claims at once instead of
/// waiting for their leases to expire. Owners on other hosts are assumed alive until their lease runs out.
public struct LeaseOwner: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let pid: Int32
    public let startTime: String
    public let nonce: String

    /// The identity of this process.
    public static let current: LeaseOwner = {
        let pid = getpid()
        return LeaseOwner(
            host: ProcessInfo.processInfo.hostName,
            pid: pid,
            startTime: processStartTime(pid) ?? "0",
            nonce: String(UInt32.random(in: 0...UInt32.max), radix: 16)
        )
    }()

    public var description: String { "\(host)/\(pid)/\(startTime)/\(nonce)" }

    /// Parses an owner string written by ``description``.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, let pid = Int32(parts[1]) else { return nil }
        self.init(host: String(parts[0]), pid: pid, startTime: String(parts[2]), nonce: String(parts[3]))
    }

    init(host: String, pid: Int32, startTime: String, nonce: String) {
        self.host = host
        self.pid = pid
        self.startTime = startTime
        self.nonce = nonce
    }

    /// False only when `owner` is provably dead: same host, and no process with its pid and start time.
    public static func isAlive(_ owner: String) -> Bool {
        guard let owner = LeaseOwner(parsing: owner) else { return true }
        if owner == current { return true }
        guard owner.host == current.host else { return true }
        // Same pid and start time, other nonce: an earlier dispatcher of this very process; it is gone.
        if owner.pid == current.pid && owner.startTime == current.startTime { return false }
        return processStartTime(owner.pid) == owner.startTime
    }

    /// Field 22 of `/proc/PID/stat`: the process's start time in clock ticks since boot.
    static func processStartTime(_ pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
            let text = String(data: data, encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: field 3 (state) is fields[0], so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return String(fields[19])
    }
}
