/// What `gridcast --version` prints: the release version, kept here by hand, and the commit the binary was built
/// from, which `scripts/with-commit.sh` writes into `BuildCommit.swift` for the length of a release build.
enum BuildInfo {
    /// The release version, raised with each release.
    static let version = "0.9.0"

    /// `gridcast 0.9.0 (commit 1a2b3c4d5e6f)`, or `(commit unknown: a development build)`.
    static var line: String {
        "gridcast \(version) (commit \(buildCommit ?? "unknown: a development build"))"
    }
}
