import ServiceLifecycle

extension Task where Success == Never, Failure == Never {
    /// True once the service should end: a graceful shutdown (SIGTERM, reload of the group) or a cancellation (the
    /// service group tearing down after another service failed). Loops that sleep must check both: a cancelled
    /// sleep returns at once, so a loop that only watches for graceful shutdown would spin.
    static var isStopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }
}
