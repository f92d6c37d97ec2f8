import Foundation
import GridcastTesting
import Testing

/// `gridcast --version`.
@Suite struct VersionTests {
    @Test func versionNamesTheReleaseAndTheCommit() async throws {
        let result = try await GridcastProcess.run(["--version"])
        #expect(result.status == 0)
        let line = result.stdout.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("gridcast "), "\(line)")
        let version = line.dropFirst("gridcast ".count).prefix { $0 != " " }
        #expect(version.split(separator: ".").count == 3 && version.allSatisfy { $0.isNumber || $0 == "." })
        #expect(line.contains(" (commit "), "\(line)")
    }
}
