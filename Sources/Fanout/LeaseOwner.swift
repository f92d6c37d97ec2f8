import Foundation
import Ledger

/// Who holds a claim: host, machine instance (boot id and pid namespace), process id, the process's start time and
/// a random nonce.
///
/// The start time makes a recycled pid harmless: a claim's owner is dead only if, on this very machine instance,
/// no process with that pid *and* that start time exists. That lets a new run take over a crashed run's claims at
/// once instead of waiting for their leases to expire. Whenever liveness can't be proven either way (another host,
/// another container, no readable /proc), the owner counts as alive and its lease must run out.
public struct LeaseOwner: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let machine: String
    public let pid: Int32
    public let startTime: String
    public let nonce: String

    /// The identity of this process.
    public static let current: LeaseOwner = {
        let pid = getpid()
        return LeaseOwner(
            host: ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_"),
            machine: machineInstance(),
            pid: pid,
            startTime: processStartTime(pid) ?? "0",
            nonce: String(UInt32.random(in: 0...UInt32.max), radix: 16)
        )
    }()

    public var description: String { "\(host)/\(machine)/\(pid)/\(startTime)/\(nonce)" }

    /// Parses an owner string written by ``description``; anything else (a pid that is not positive or not written
    /// as ``description`` writes it, a start time that is not a number of clock ticks) is nil, and so never dead.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, let pid = Int32(parts[2]), pid > 0, String(pid) == parts[2],
            !parts[3].isEmpty, parts[3].allSatisfy({ ("0"..."9").contains($0) })
        else { return nil }
        self.init(
            host: String(parts[0]), machine: String(parts[1]), pid: pid, startTime: String(parts[3]),
            nonce: String(parts[4]))
    }

    init(host: String, machine: String, pid: Int32, startTime: String, nonce: String) {
        self.host = host
        self.machine = machine
        self.pid = pid
        self.startTime = startTime
        self.nonce = nonce
    }

    /// False only when `owner` is provably dead: same host and machine instance, and no process with its pid and
    /// start time. Anything that can't be told is alive.
    public static func isAlive(_ owner: String) -> Bool {
        guard let owner = LeaseOwner(parsing: owner) else { return true }
        let me = current
        guard owner != me, owner.host == me.host, owner.machine == me.machine, me.startTime != "0" else { return true }
        if owner.pid == me.pid { return owner.startTime == me.startTime }
        var info = stat()
        if stat("/proc/\(owner.pid)", &info) != 0 {
            return errno != ENOENT  // no such process: dead; anything else: can't tell
        }
        // An owner that could not read its own start time wrote "0": a process with its pid may be that owner.
        guard owner.startTime != "0", let start = processStartTime(owner.pid) else { return true }
        return start == owner.startTime
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

    /// The kernel's boot id and this process's pid namespace: pids compare only within one such instance.
    static func machineInstance() -> String {
        let boot =
            (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .prefix(8) ?? "noboot"
        let namespace =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid"))?
            .filter(\.isNumber) ?? "nons"
        return "\(boot):\(namespace)"
    }
}

extension LeaseOwner {
    /// When this process first asked who it is: its start, near enough for an operator's list of instances.
    private static let firstAsked = Date()

    /// This owner as an instance of a shared ledger (``InstanceLedger``), when it is this process.
    public var instance: InstanceIdentity {
        InstanceIdentity(owner: description, host: host, pid: Int(pid), startedAt: Self.firstAsked)
    }
}
