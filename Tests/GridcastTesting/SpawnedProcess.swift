import Foundation
import Synchronization

/// A child process started with `posix_spawn`, its output in files, reaped by a thread of its own.
///
/// Foundation's `Process.run()` on Linux (up to Swift 6.3.1) copies a whole 256-byte `d_name` out of each `dirent`
/// while it lists `/proc/self/fd` to close the parent's descriptors; when a short record ends glibc's buffer next
/// to an unmapped page, that read crashes the test process, now and then. Here the child closes every descriptor
/// above standard error itself, as it starts (`posix_spawn_file_actions_addclosefrom_np`).
public final class SpawnedProcess: Sendable {
    /// The process id.
    public let processIdentifier: Int32
    /// The exit status once reaped (the signal's number when a signal ended it, as `Process` says), nil while it
    /// runs.
    private let status = Mutex<Int32?>(nil)

    /// Whether it has not ended yet.
    public var isRunning: Bool { status.withLock { $0 == nil } }

    /// Its exit status; -1 while it runs.
    public var terminationStatus: Int32 { status.withLock { $0 ?? -1 } }

    /// Sends `SIGTERM`.
    public func terminate() { kill(processIdentifier, SIGTERM) }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` and `…_addchdir_np`, which its Swift module doesn't
    /// declare (they are GNU extensions).
    private static let closeFrom = function(
        "posix_spawn_file_actions_addclosefrom_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    private static let changeDirectory = function(
        "posix_spawn_file_actions_addchdir_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)

    private static func function<F>(_ name: String, as type: F.Type) -> F? {
        dlsym(dlopen(nil, RTLD_NOW), name).map { unsafeBitCast($0, to: type) }
    }

    /// Why a program could not be started.
    public struct SpawnFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `path` with `arguments` and exactly `environment`, in `directory` when given, standard input from
    /// `/dev/null` and standard output and error appended to the files at `stdoutPath` and `stderrPath`.
    /// `exited` gets the exit status once the process has ended and been reaped.
    public init(
        _ path: String, _ arguments: [String], environment: [String: String], in directory: String?,
        stdoutPath: String, stderrPath: String, exited: @escaping @Sendable (Int32) -> Void
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard let closeFrom = Self.closeFrom, let changeDirectory = Self.changeDirectory else {
            throw SpawnFailed(description: "this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34)")
        }
        _ = closeFrom(&actions, 3)
        if let directory { _ = changeDirectory(&actions, directory) }
        // The child starts with no signal blocked and every signal at its default (the test process ignores
        // SIGPIPE, for one).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw SpawnFailed(description: "cannot start \(path): \(String(cString: strerror(result)))")
        }
        processIdentifier = pid
        // A thread, not a task: waitpid blocks, and the concurrency pool has a thread per core.
        Thread.detachNewThread { [self, pid] in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
            status.withLock { $0 = code }
            exited(code)
        }
    }
}
