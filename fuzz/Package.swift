// swift-tools-version:5.4
import PackageDescription

// libFuzzer targets over gridcast's parsers. Build only with the fuzzer flags (see ../scripts/fuzz.sh):
//   swift build -c release --scratch-path ../.build-fuzz \
//     -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// GridcastCore and Scheduling are the parent package's own sources (symlinked under Sources/), compiled here with
// the sanitizers, so the parent's normal `swift build` never needs fuzzer flags and this package pulls in no server
// stack (Hummingbird, NIO, libcurl): the API body decoding it fuzzes is GridcastCore's `NoticeBody`.

// Tools version 5.4 on purpose: from 5.5 on SwiftPM renames an executable's entry point to `<Module>_main` (for
// testable executables), and a libFuzzer target has no entry point of its own: `main` is libFuzzer's. The
// language mode is Swift 6 all the same (below).
let swiftSettings: [SwiftSetting] = [
    .unsafeFlags([
        "-swift-version", "6", "-enable-upcoming-feature", "ExistentialAny", "-enable-upcoming-feature",
        "MemberImportVisibility",
    ])
]

/// One fuzz target: an executable whose `main` is libFuzzer's.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(
        name: name, dependencies: ["FuzzSupport", "GridcastCore", "Scheduling"], swiftSettings: swiftSettings)
}

let package = Package(
    name: "gridcast-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
    ],
    targets: [
        .target(name: "Scheduling", swiftSettings: swiftSettings),
        .target(
            name: "GridcastCore",
            dependencies: [
                "Scheduling",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "FuzzSupport", dependencies: ["GridcastCore"], swiftSettings: swiftSettings),
        fuzzTarget("FuzzConfig"),
        fuzzTarget("FuzzGroupsCSV"),
        fuzzTarget("FuzzFrontMatter"),
        fuzzTarget("FuzzCron"),
        fuzzTarget("FuzzNoticeBody"),
    ]
)
