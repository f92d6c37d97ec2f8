import Foundation
import GridcastTesting
import Testing

@testable import Fanout

/// Who holds a claim, and when a new run may take a dead owner's claims over at once (docs/ledger.md): only when
/// the owner is provably dead on this very machine instance; whatever can't be told is alive.
@Suite("LeaseOwner: the owner string and the liveness of its process")
struct LeaseOwnerTests {
    let me = LeaseOwner.current

    /// An owner on this host and machine instance with the given pid and start time.
    func local(pid: Int32, startTime: String) -> LeaseOwner {
        LeaseOwner(host: me.host, machine: me.machine, pid: pid, startTime: startTime, nonce: "5eed")
    }

    /// A running child process (`sleep`), its start time read from /proc.
    func withChild(_ body: (_ pid: Int32, _ startTime: String) async throws -> Void) async throws {
        let child = try GridcastProcess.launch("/bin/sleep", ["600"])
        do {
            let startTime = try #require(LeaseOwner.processStartTime(child.pid))
            try await body(child.pid, startTime)
        } catch {
            child.kill()
            _ = try? await child.wait()
            throw error
        }
        child.kill()
        _ = try await child.wait()
    }

    @Test func theOwnerStringRoundTrips() throws {
        let parsed = try #require(LeaseOwner(parsing: me.description))
        #expect(parsed == me)
        let owner = LeaseOwner(
            host: "grid-host", machine: "0a1b2c3d:4026531836", pid: 4242, startTime: "987654", nonce: "beef")
        #expect(owner.description == "grid-host/0a1b2c3d:4026531836/4242/987654/beef")
        #expect(LeaseOwner(parsing: owner.description) == owner)
        #expect(me.pid == getpid())
        #expect(me.startTime == LeaseOwner.processStartTime(getpid()))
        #expect(!me.host.contains("/") && !me.machine.contains("/"))
    }

    @Test(
        "a malformed owner string is not parsed, and counts as alive",
        arguments: [
            "", "host", "h/m/12/34", "h/m/12/34/n/extra", "h/m/twelve/34/n", "h/m//34/n", "h/m/12.5/34/n",
            "h/m/99999999999/34/n", "h/m/0/34/n", "h/m/-1/34/n", "h/m/+12/34/n", "h/m/ 12/34/n",
            "h/m/12//n", "h/m/12/3x4/n",
        ]
    )
    func malformed(_ text: String) {
        #expect(LeaseOwner(parsing: text) == nil)
        // The same with this host and machine instance, where a parsed owner could be judged dead.
        let here = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2)
        let local = ([me.host, me.machine] + here.map(String.init)).joined(separator: "/")
        #expect(LeaseOwner(parsing: local) == nil, "\(local)")
        #expect(LeaseOwner.isAlive(local), "\(local)")
    }

    @Test func thisProcessIsAliveAndAnEarlierOneWithItsPidIsNot() {
        #expect(LeaseOwner.isAlive(me.description))
        // The same pid and start time under another nonce can't be told from this process: alive.
        #expect(LeaseOwner.isAlive(local(pid: me.pid, startTime: me.startTime).description))
        // The same pid with another start time: an earlier process that had this pid, dead.
        #expect(!LeaseOwner.isAlive(local(pid: me.pid, startTime: me.startTime + "1").description))
    }

    @Test func aLiveProcessIsAliveAndAReusedPidIsNot() async throws {
        try await withChild { pid, startTime in
            #expect(LeaseOwner.isAlive(local(pid: pid, startTime: startTime).description))
            // The pid is in use by a process that started at another time: the owner that had it is dead.
            let earlier = String((Int(startTime) ?? 1) - 1)
            #expect(!LeaseOwner.isAlive(local(pid: pid, startTime: earlier).description))
            #expect(!LeaseOwner.isAlive(local(pid: pid, startTime: startTime + "0").description))
        }
    }

    @Test func anExitedProcessIsDead() async throws {
        let child = try GridcastProcess.launch("/bin/true", [])
        let pid = child.pid
        let startTime = LeaseOwner.processStartTime(pid) ?? "1"
        #expect(try await child.wait().status == 0)
        // Reaped: no such process. (Were the pid reused already, its start time would differ: dead too.)
        #expect(!LeaseOwner.isAlive(local(pid: pid, startTime: startTime).description))
    }

    @Test func anOwnerWhoseStartTimeIsUnknownIsAliveWhileItsPidIs() async throws {
        // An owner that could not read its own start time wrote "0": its pid in use may well be that very process.
        try await withChild { pid, _ in
            #expect(LeaseOwner.isAlive(local(pid: pid, startTime: "0").description))
        }
    }

    @Test func anotherMachineInstanceOrHostCantBeToldAndCountsAsAlive() async throws {
        try await withChild { pid, startTime in
            let gone = LeaseOwner(
                host: me.host, machine: "ffffffff:\(me.machine.split(separator: ":").last ?? "")", pid: pid,
                startTime: startTime + "9", nonce: "n")
            // Another boot (or pid namespace): the same pid on this machine says nothing about that process.
            #expect(LeaseOwner.isAlive(gone.description))
            let elsewhere = LeaseOwner(
                host: me.host + "-other", machine: me.machine, pid: pid, startTime: startTime + "9", nonce: "n")
            #expect(LeaseOwner.isAlive(elsewhere.description))
        }
        // Also when no process has the pid here.
        let unused = LeaseOwner(host: me.host, machine: "ffffffff:0", pid: Int32.max, startTime: "1", nonce: "n")
        #expect(LeaseOwner.isAlive(unused.description))
    }
}
