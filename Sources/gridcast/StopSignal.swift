import Foundation
import Synchronization

/// SIGINT/SIGTERM for `gridcast send`: the first asks the dispatcher to stop claiming and finish what is in flight;
/// a second one ends the process at once.
enum StopSignal {
    private static let requested = Atomic<Bool>(false)

    /// Installs the handlers.
    static func install() {
        // A static is initialised on first use, through a lock-taking `swift_once` that is not async-signal-safe:
        // make that first use happen here, before a handler can run.
        _ = requested.load(ordering: .relaxed)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { number in
                // Atomic stores are lock-free, hence async-signal-safe.
                if StopSignal.requested.exchange(true, ordering: .relaxed) {
                    signal(number, SIG_DFL)
                    raise(number)
                }
            }
        }
    }

    /// Whether a stop was asked for.
    static var isRequested: Bool {
        requested.load(ordering: .relaxed)
    }
}
