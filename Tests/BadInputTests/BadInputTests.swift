import Foundation
import GridcastCore
import GridcastTesting
import Testing

/// Every bad config, schedule, groups file and notice of the corpus, through the real loader: refused, with the
/// expected message at the expected place.
@Suite("Bad input: configs, schedules, groups files and notices are refused where they are wrong")
struct BadInputTests {
    /// A config that uses a notice file from the corpus as its whole library.
    static let libraryConfig = """
        timezone: Asia/Shanghai
        groups:
          - id: lingshui-01
            sink: wecom
            url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}
            tags: [elderly]
        notices:
          dir: notices

        """

    /// The problems of loading `path`, as the user reads them, with `prefixes` stripped from file names; a config
    /// that loads gives its warnings.
    func problems(loading path: String, stripping prefixes: [String]) -> [String] {
        do {
            return try Corpus.loader.load(path: path).warnings.map { Corpus.shown($0, stripping: prefixes) }
        } catch {
            return error.diagnostics.map { Corpus.shown($0, stripping: prefixes) }
        }
    }

    /// Checks that the problems hold the case's message at its place, name its group, and never say what is absent.
    func expect(_ problems: [String], _ item: Corpus.Case) throws {
        let at = try #require(item.at, "\(item.input) has no expected location")
        let hit = problems.first { $0.hasPrefix(at + ": ") && $0.contains(item.message) }
        #expect(hit != nil, "expected '\(at): …\(item.message)…' among \(problems)")
        if let group = item.group {
            #expect(hit?.contains(group) == true, "the message should name group \(group)")
        }
        if let absent = item.absent {
            #expect(!problems.contains { $0.contains(absent) }, "no problem may contain '\(absent)': \(problems)")
        }
    }

    @Test("a bad config is refused at FILE:LINE:COL", arguments: Corpus.cases("config", "schedules"))
    func config(_ item: Corpus.Case) throws {
        try expect(problems(loading: item.path, stripping: [Corpus.root]), item)
    }

    @Test("a bad groups file is refused at FILE:LINE", arguments: Corpus.cases("csv"))
    func groupsFile(_ item: Corpus.Case) throws {
        let directory = try TemporaryDirectory("bad-csv")
        defer { directory.remove() }
        let config = try directory.write("gridcast.yaml", "groups_file: \(item.path)\n")
        try expect(problems(loading: config, stripping: [Corpus.root, directory.path]), item)
    }

    @Test("a bad library notice is refused at FILE:LINE:COL", arguments: Corpus.cases("notices"))
    func notice(_ item: Corpus.Case) throws {
        let directory = try TemporaryDirectory("bad-notice")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: item.path, toPath: directory.file(item.input))
        let config = try directory.write("gridcast.yaml", Self.libraryConfig)
        let problems = problems(loading: config, stripping: [directory.path])
        try expect(problems, item)
        if item.warning == true {
            #expect((try? Corpus.loader.load(path: config)) != nil, "a warning does not stop the config")
        }
    }

    @Test(
        "gridcast check prints the same problem and exits 2",
        arguments: Corpus.cases.filter { $0.check == true }
    )
    func checkCommand(_ item: Corpus.Case) async throws {
        let directory = try TemporaryDirectory("bad-check")
        defer { directory.remove() }
        var arguments = ["check", "--config", item.input]
        if item.kind == "csv" {
            arguments[2] = try directory.write("gridcast.yaml", "groups_file: \(item.path)\n")
        }
        let result = try await GridcastProcess.run(arguments, environment: Corpus.environment, in: Corpus.root)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").map {
            String($0).replacingOccurrences(of: Corpus.root + "/", with: "")
                .replacingOccurrences(of: directory.path + "/", with: "")
        }
        try expect(lines, item)
        // check sends nothing in any case: the count ends the output, without "nothing was sent".
        let last = lines.last ?? ""
        #expect(last.hasSuffix(" 1 problem") || last.hasSuffix(" problems"), "\(last)")
    }

    @Test("the corpus holds at least 60 bad inputs, each listed once with its expectation")
    func corpusIsComplete() {
        let listed = Corpus.cases.map(\.input)
        #expect(listed.count >= 60)
        #expect(Set(listed).count == listed.count, "an input is listed twice")
        let onDisk = Corpus.kinds.flatMap { Corpus.files(in: $0) }
        #expect(Set(onDisk).subtracting(listed).sorted() == [], "inputs without an expectation")
        #expect(Set(listed).subtracting(onDisk).sorted() == [], "expectations without an input")
        for item in Corpus.cases {
            if item.kind == "api" {
                #expect(item.status != nil, "\(item.input) needs a status")
            } else {
                #expect(item.at != nil, "\(item.input) needs a location")
            }
        }
        // Every kind is covered in earnest.
        for kind in Corpus.kinds {
            #expect(Corpus.cases(kind).count >= 10, "\(kind): \(Corpus.cases(kind).count) cases")
        }
    }
}
