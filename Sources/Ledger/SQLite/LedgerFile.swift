import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which file a path named when the ledger was opened: its device and inode.
///
/// SQLite keeps writing into the file it opened even after that file is deleted or another is renamed over its
/// path, so a daemon would go on recording into a ledger nobody can read, and start a fresh one on its next run.
/// A write first asks ``isStillAt(_:)`` (one `stat`, beside a commit's sync to disk) and stops when it isn't.
struct LedgerFile: Sendable, Equatable {
    let device: UInt64
    let inode: UInt64

    /// The file at `path` now; nil when there is none.
    init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }

    /// Whether `path` still names this file.
    func isStillAt(_ path: String) -> Bool {
        LedgerFile(path: path) == self
    }
}
