import GridcastCore
import Logging

/// What `gridcast check` prints as warnings (a library notice for a tag this config lacks, say), logged by the
/// daemon at start and at each reload so that `journalctl -p warning` shows them too.
enum ConfigWarnings {
    /// Logs each warning of `config` at warning level, with its place.
    static func log(_ config: GridcastConfig, to logger: Logger) {
        for warning in config.warnings {
            logger.warning("config: \(warning.description)")
        }
    }
}
