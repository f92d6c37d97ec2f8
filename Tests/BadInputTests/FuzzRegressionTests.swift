import Foundation
import GridcastCore
import GridcastTesting
import Scheduling
import Testing

/// The inputs that once crashed a fuzz target (`Corpus/fuzz-regressions/TARGET/`), replayed through the same code
/// as the target, without sanitizers: each must now be refused cleanly, with every problem inside the input.
@Suite("Fuzz regressions: every input that once crashed a parser is now refused cleanly")
struct FuzzRegressionTests {
    /// One saved input.
    struct Input: Sendable, CustomTestStringConvertible {
        /// `fuzz-regressions/TARGET/NAME`.
        var path: String
        /// The fuzz target it crashed.
        var target: String { path.split(separator: "/")[1].description }
        var bytes: [UInt8] { FileManager.default.contents(atPath: Corpus.root + "/" + path).map { [UInt8]($0) } ?? [] }
        var testDescription: String { path }
    }

    static let inputs = Corpus.files(in: "fuzz-regressions").filter { !$0.hasSuffix("README.md") }.map(Input.init)

    /// Every location of `error` in `file` lies within the input's lines.
    func expectInside(_ error: ConfigError, file: String, lines: Int) {
        for diagnostic in error.diagnostics where diagnostic.location?.file == file {
            #expect((1...lines + 1).contains(diagnostic.location!.line), "\(diagnostic)")
        }
    }

    @Test("a saved crash input is refused cleanly", arguments: inputs)
    func replay(_ input: Input) throws {
        let bytes = input.bytes
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        switch input.target {
        case "FuzzConfig":
            #expect(throws: ConfigError.self) { try Corpus.loader.load(yaml: text, file: "fuzz.yaml") }
        case "FuzzGroupsCSV":
            let directory = try TemporaryDirectory("fuzz-csv")
            defer { directory.remove() }
            let csv = directory.file("groups.csv")
            #expect(FileManager.default.createFile(atPath: csv, contents: Data(bytes)))
            do {
                _ = try Corpus.loader.load(yaml: "groups_file: \(csv)\n", file: directory.file("gridcast.yaml"))
                Issue.record("a crashing groups file should be refused")
            } catch {
                expectInside(error, file: csv, lines: lines)
            }
        case "FuzzFrontMatter":
            guard case .failure(let error) = NoticeLibrary.parse(text, file: "fuzz.md") else {
                Issue.record("a crashing notice file should be refused")
                return
            }
            expectInside(error, file: "fuzz.md", lines: lines)
        case "FuzzCron":
            #expect(throws: CronSchedule.Failure.self) { try CronSchedule(parsing: text) }
            #expect(throws: QuietHours.Failure.self) { try QuietHours(parsing: text) }
            #expect(DurationSyntax.parse(text) == nil)
            _ = RateLimit(parsing: text)
            _ = try? Selector(parsing: text)
        case "FuzzNoticeBody":
            #expect(throws: NoticeBody.Problem.self) { try NoticeBody(json: bytes) }
        default:
            Issue.record("unknown fuzz target \(input.target)")
        }
    }
}
