import Foundation
import GridcastCore

/// What every fuzz target shares: a sink catalog without the network stack, and a scratch directory.
public enum FuzzSupport {
    /// The sink names of the real registry, with no per-sink rules (those live in Sinks, which needs libcurl).
    public struct Catalog: SinkCatalog {
        /// The names the real registry knows.
        public let sinkNames = [
            "wecom", "dingtalk", "feishu", "lark", "slack", "telegram", "discord", "teams", "generic",
        ]

        /// Creates the catalog.
        public init() {}

        /// No per-sink rules.
        public func problems(for group: Group) -> [GroupProblem] { [] }
    }

    /// A loader over a fixed environment, so `${VAR}` expansion is exercised the same way on every run.
    public static let loader = ConfigLoader(
        catalog: Catalog(), environment: ["WECOM_KEY": "wk-0001", "DT_TOKEN": "dt-0001", "EMPTY": ""]
    )

    /// A per-process scratch directory for targets that must go through a file.
    public static let scratch: String = {
        let path = NSTemporaryDirectory() + "gridcast-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// The bytes libFuzzer hands over, copied.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Every diagnostic must name a place inside the input when it has a line: a location past the end of the
    /// input is a parser bug, so it traps and libFuzzer reports it as a crash.
    public static func checkLocations(_ error: ConfigError, lines: Int, file: String) {
        for diagnostic in error.diagnostics {
            guard let location = diagnostic.location, location.file == file else { continue }
            if location.line < 1 || location.line > max(lines, 1) + 1 || (location.column ?? 1) < 1 {
                fail("location outside the input (\(lines) lines): \(diagnostic)")
            }
        }
    }

    /// Reports a broken invariant and aborts, which libFuzzer records as a crash with its input.
    public static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("gridcast fuzz invariant: \(message)\n".utf8))
        abort()
    }

    /// The number of lines in `bytes` as a newline-only reader (the CSV parser) counts them.
    public static func lineCount(_ bytes: [UInt8]) -> Int {
        bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }

    /// The number of lines in `text` as YAML counts them: CR LF, a lone CR, LF, NEL, LS and PS each end a line.
    public static func yamlLineCount(_ text: String) -> Int {
        var count = 1
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": if previous != "\r" { count += 1 }
            case "\r", "\u{85}", "\u{2028}", "\u{2029}": count += 1
            default: break
            }
            previous = scalar
        }
        return count
    }
}
