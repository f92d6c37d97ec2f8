// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// What every test target may use: the whole product plus the test helpers.
let testDependencies: [Target.Dependency] = [
    "GridcastCore", "Transport", "Sinks", "Channels", "Ledger", "Fanout", "Reports", "Emulator", "GridcastTesting",
    "Scheduling", "Daemon",
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "Prometheus", package: "swift-prometheus"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    .product(name: "Crypto", package: "swift-crypto"),
]

let package = Package(
    name: "gridcast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridcast", targets: ["gridcast"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        // The ledger uses GRDB cursor requirements that are underscored (not yet stable API): pinned to 7.10.x.
        .package(url: "https://github.com/groue/GRDB.swift.git", .upToNextMinor(from: "7.10.0")),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        // libcurl, the system C library, and a tiny C shim for its variadic setopt calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        // HTTP client on one curl_multi event-loop thread, and the multipart encoder of uploads.
        .target(
            name: "Transport",
            dependencies: [
                "CCurl", "CCurlShim",
                .product(name: "Logging", package: "swift-log"),
                // For the multipart encoder's boundary, a digest of what the form is for.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Config, groups, notices, selectors: the shared vocabulary.
        .target(
            name: "GridcastCore",
            dependencies: [
                "Scheduling",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // One file per chat platform behind the `Sink` protocol.
        .target(
            name: "Sinks",
            dependencies: [
                "GridcastCore", "Transport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Platforms' app APIs that take several calls per send: tokens, uploads, mass-message tasks.
        .target(
            name: "Channels",
            dependencies: ["GridcastCore", "Transport"],
            swiftSettings: swiftSettings
        ),
        // The send ledger (台帐): store protocol, the embedded SQLite store and the shared PostgreSQL store.
        .target(
            name: "Ledger",
            dependencies: [
                "GridcastCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for copying returned rows straight into the event log.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // claim → render → send → classify → record.
        .target(
            name: "Fanout",
            dependencies: [
                "GridcastCore", "Ledger", "Sinks", "Channels", "Transport", "Scheduling",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Cron schedules and quiet hours, in the config's time zone.
        .target(name: "Scheduling", swiftSettings: swiftSettings),
        // Daily reports read from the ledger.
        .target(
            name: "Reports",
            dependencies: ["GridcastCore", "Ledger"],
            swiftSettings: swiftSettings
        ),
        // Local stand-in for the chat platforms' webhook endpoints.
        .target(
            name: "Emulator",
            dependencies: [
                "GridcastCore", "Sinks",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // gridcast serve: scheduler, dispatcher, HTTP API, systemd integration.
        .target(
            name: "Daemon",
            dependencies: [
                "GridcastCore", "Transport", "Sinks", "Channels", "Ledger", "Fanout", "Reports", "Scheduling",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "gridcast",
            dependencies: [
                "GridcastCore", "Transport", "Sinks", "Channels", "Ledger", "Fanout", "Reports", "Emulator", "Daemon",
                "Scheduling",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GridcastTesting",
            dependencies: [
                "GridcastCore", "Emulator", "Ledger", "Fanout", "Sinks", "Transport", "Daemon",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/GridcastTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GridcastTests",
            dependencies: testDependencies,
            swiftSettings: swiftSettings
        ),
        // The web audit page, driven in headless Chromium.
        .testTarget(
            name: "AuditPageTests",
            dependencies: testDependencies,
            swiftSettings: swiftSettings
        ),
        // The bad-input corpus: every bad config, CSV, notice and API body, with its error location.
        .testTarget(
            name: "BadInputTests",
            dependencies: testDependencies,
            exclude: ["Corpus"],  // read at test time through #filePath
            swiftSettings: swiftSettings
        ),
        // Every platform answer in platforms.md, through the emulator: end state and attempt count.
        .testTarget(
            name: "FaultMatrixTests",
            dependencies: testDependencies,
            swiftSettings: swiftSettings
        ),
        // Secret hygiene, transport safety, resource faults and API abuse.
        .testTarget(
            name: "SafetyTests",
            dependencies: testDependencies,
            swiftSettings: swiftSettings
        ),
    ]
)
