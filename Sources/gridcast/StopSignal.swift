import Foundation
import Synchronization

/// SIGINT/SIGTERM for `gridcast send`: the first asks the dispatcher to stop claiming and finish what is in flight;
/// a second one ends the process at once.
enum StopSignal {
    private static let requested = Atomic<Bool>(false)

    /// Installs the handlers.
    static func install() {
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
