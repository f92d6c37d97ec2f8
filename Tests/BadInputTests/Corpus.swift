import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing

/// The bad-input corpus on disk: `Corpus/cases.json` lists every input with the error it must produce.
///
/// Inputs live beside the manifest in one folder per kind: `config/` and `schedules/` (YAML configs, expected at
/// `FILE:LINE:COL`), `csv/` (groups files, `FILE:LINE`), `notices/` (library notices, `FILE:LINE:COL`), `api/`
/// (`POST /v1/notices` bodies: HTTP status and the `field` named in the answer). `support/` holds the good files
/// some inputs refer to; `fuzz-regressions/TARGET/` the inputs that once crashed a fuzz target.
enum Corpus {
    /// The corpus directory, found from this source file, so no SwiftPM resources are needed.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus").path

    /// The folders whose files are bad inputs, each listed in the manifest.
    static let kinds = ["config", "schedules", "csv", "notices", "api"]

    /// The environment `${VAR}` expands from: every variable a corpus file uses on purpose, none it uses by mistake.
    static let environment = [
        "WECOM_KEY": "wk-0001", "DT_TOKEN": "dt-0001", "GENERIC_SECRET": "whsec_Z3JpZGNhc3QtZnV6eg==",
    ]

    /// The loader every config-like case goes through.
    static let loader = ConfigLoader(catalog: SinkRegistry.standard, environment: environment)

    /// One bad input and what must be said about it.
    struct Case: Sendable, Decodable, CustomTestStringConvertible {
        /// The input, relative to ``Corpus/root``.
        var input: String
        /// Where the error must point: `FILE:LINE:COL` (YAML, Markdown) or `FILE:LINE` (CSV), relative to the corpus.
        var at: String?
        /// A substring of the error message.
        var message: String
        /// For API bodies: the HTTP status.
        var status: Int?
        /// For API bodies: the `field` of the answer (`null` when the answer names none).
        var field: String?
        /// A group id the message must name.
        var group: String?
        /// A substring no message may contain (a secret, a misleading hint).
        var absent: String?
        /// Also run `gridcast check` on it and expect the same line on stderr.
        var check: Bool?
        /// Not an error but a warning: the config loads, and the message is among its warnings.
        var warning: Bool?

        /// The folder, which says how the input is loaded.
        var kind: String { String(input.prefix { $0 != "/" }) }
        /// The input's absolute path.
        var path: String { Corpus.root + "/" + input }
        /// The input's bytes.
        var bytes: [UInt8] { FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? [] }

        var testDescription: String { input }
    }

    /// Every case of the manifest, in its order.
    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: root + "/cases.json") else { return [] }
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    /// The cases of some kinds.
    static func cases(_ kinds: String...) -> [Case] {
        cases.filter { kinds.contains($0.kind) }
    }

    /// The files of a corpus folder, relative to the corpus, sorted.
    static func files(in folder: String) -> [String] {
        let base = root + "/" + folder
        guard let names = try? FileManager.default.subpathsOfDirectory(atPath: base) else { return [] }
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: base + "/" + name, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }.map { folder + "/" + $0 }.sorted()
    }

    /// A diagnostic as the user reads it, with the corpus (or a scratch directory) stripped from the files it names.
    static func shown(_ diagnostic: Diagnostic, stripping prefixes: [String]) -> String {
        prefixes.reduce(diagnostic.description) { $0.replacingOccurrences(of: $1 + "/", with: "") }
    }
}
