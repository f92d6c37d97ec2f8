import Foundation
import Logging
import Synchronization

/// One line per event on standard error, `ts=2026-12-03T09:30:00.120+08:00 level=… msg="…" key=value…`: readable in
/// a terminal, parseable in journald (which stamps lines itself, so `ts=` is left out there). Times are in the
/// config's timezone once it is loaded. Levels from `--log-level`, else `GRIDCAST_LOG_LEVEL`, else `info`.
struct KeyValueLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog priority, `<3>`…`<7>`, so journald
    /// files it at the right level.
    static let journald = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil

    /// The zone `ts=` is written in: the system's until a command loads its config and sets the config's.
    private static let zone = Mutex(TimeZone.current)

    /// Writes later timestamps in `timeZone`, with its offset.
    static func use(_ timeZone: TimeZone) {
        zone.withLock { $0 = timeZone }
    }

    /// `2026-12-03T09:30:00.120+08:00`: local time in the zone set by ``use(_:)``, with its offset.
    static func timestamp(_ date: Date) -> String {
        let style = Date.ISO8601FormatStyle(
            timeZoneSeparator: .colon, includingFractionalSeconds: true, timeZone: zone.withLock { $0 })
        return date.formatted(style)
    }

    func log(event: LogEvent) {
        var line = Self.journald ? Self.priority(event.level) : "ts=\(Self.timestamp(Date())) "
        line += "level=\(event.level) logger=\(label) msg=\(Self.quote("\(event.message)"))"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quote("\(value)"))"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func priority(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "<7>"
        case .info: "<6>"
        case .notice: "<5>"
        case .warning: "<4>"
        case .error: "<3>"
        case .critical: "<2>"
        }
    }

    static func quote(_ text: String) -> String {
        if !text.isEmpty, !text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) {
            return text
        }
        return "\""
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// Installs the handler once per process.
    static func bootstrap(level: String?) {
        let name = level ?? ProcessInfo.processInfo.environment["GRIDCAST_LOG_LEVEL"] ?? "info"
        let parsed = Logger.Level(rawValue: name.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in KeyValueLogHandler(logLevel: parsed, label: label) }
    }
}
