import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing

/// `ledger.url`: the PostgreSQL ledger's location, its password from each source in order, and the password kept
/// out of every message.
@Suite("LedgerURLConfig: ledger.url, its password and instance_timeout")
struct LedgerURLConfigTests {
    static let password = "pg-Secret-0123456789"
    static let groups = """
        groups:
          - id: lingshui-01
            sink: wecom
            url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-0001

        """

    /// What loading a config left: the config with its warnings, or the problems; the directory stripped.
    struct Outcome {
        var loaded: ConfigLoader.Loaded?
        var problems: [String]
        var warnings: [String]
        var ledger: LedgerSettings? { loaded?.config.ledger }
        var postgres: PostgresLocation? { loaded?.config.ledger.postgres }
    }

    /// Loads `ledger` (the `ledger:` section) and a group as `gridcast.yaml` beside `files` (mode 0600 unless
    /// `modes` says otherwise); `HOME` is the directory.
    func load(
        _ ledger: String, files: [String: String] = [:], modes: [String: Int] = [:],
        environment: [String: String] = [:], credentials: EnvironmentExpansion.CredentialUse = .required
    ) throws -> Outcome {
        let directory = try TemporaryDirectory("ledger-url")
        defer { directory.remove() }
        for (name, text) in files {
            let folder = (directory.file(name) as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let path = try directory.write(name, text)
            try FileManager.default.setAttributes([.posixPermissions: modes[name] ?? 0o600], ofItemAtPath: path)
        }
        let path = try directory.write("gridcast.yaml", ledger + Self.groups)
        var environment = environment
        environment["HOME"] = environment["HOME"] ?? directory.path
        let loader = ConfigLoader(catalog: SinkRegistry.standard, environment: environment, credentials: credentials)
        let strip = { (text: String) in text.replacingOccurrences(of: directory.path + "/", with: "") }
        do {
            let loaded = try loader.loaded(path: path)
            return Outcome(loaded: loaded, problems: [], warnings: loaded.warnings.map { strip($0.description) })
        } catch {
            return Outcome(loaded: nil, problems: error.diagnostics.map { strip($0.description) }, warnings: [])
        }
    }

    func url(_ url: String) throws -> PostgresLocation {
        try PostgresLocation(parsing: url)
    }

    // MARK: URL shapes

    @Test func aFullURLParses() throws {
        let location = try url(
            "postgres://gridcast:pw@db.example:6543/ledger?sslmode=verify-full&sslrootcert=/etc/ca.crt"
                + "&application_name=gridcast-a&connect_timeout=7")
        #expect(location.host == "db.example")
        #expect(location.port == 6543)
        #expect(location.user == "gridcast")
        #expect(location.password == "pw")
        #expect(location.database == "ledger")
        #expect(location.tls == .verifyFull)
        #expect(location.rootCertificate == "/etc/ca.crt")
        #expect(location.applicationName == "gridcast-a")
        #expect(location.connectTimeout == .seconds(7))
    }

    @Test func defaultsFollowLibpq() throws {
        let location = try url("postgresql://gridcast@db.example")
        #expect(location.port == 5432)
        #expect(location.database == "gridcast")
        #expect(location.password == nil)
        #expect(location.applicationName == "gridcast")
        #expect(location.rootCertificate == nil)
        #expect(try url("postgres://gridcast@db.example/").database == "gridcast")
        #expect(try url("POSTGRES://gridcast:@db.example").password == nil)
    }

    @Test func userPasswordAndDatabaseArePercentDecoded() throws {
        let location = try url("postgres://grid%40cast:p%3Aw%2Fd%40x@[::1]:5433/led%20ger")
        #expect(location.user == "grid@cast")
        #expect(location.password == "p:w/d@x")
        #expect(location.host == "::1")
        #expect(location.port == 5433)
        #expect(location.database == "led ger")
        #expect(location.redacted == "postgres://grid%40cast@[::1]:5433/led%20ger?sslmode=disable")
    }

    @Test func sslmodeDefaultsToDisableOnlyForLoopback() throws {
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            #expect(try url("postgres://u@\(host)/d").tls == .disable, "\(host)")
        }
        for host in ["db.example", "10.0.0.5", "127.0.0.2.example"] {
            #expect(try url("postgres://u@\(host)/d").tls == .require, "\(host)")
        }
        #expect(try url("postgres://u@localhost/d?sslmode=require").tls == .require)
        #expect(try url("postgres://u@db.example/d?sslmode=disable").tls == .disable)
    }

    @Test func theRedactedFormHasNoPassword() throws {
        let location = try url("postgres://gridcast:\(Self.password)@db.example/gridcast?sslmode=verify-full")
        #expect(location.redacted == "postgres://gridcast@db.example:5432/gridcast?sslmode=verify-full")
        #expect("\(location)" == location.redacted)
        #expect(String(reflecting: location) == location.redacted)
        var dumped = ""
        dump(location, to: &dumped)
        #expect(!dumped.contains(Self.password))
    }

    @Test(
        "each malformed URL says what is wrong",
        arguments: [
            ("mysql://u@h/d", "not mysql://"),
            ("u:pw@h/d", "expected a URL such as"),
            ("postgres://h/d", "names no user"),
            ("postgres://u@/d", "names no host"),
            ("postgres://u@h1,h2/d", "several hosts"),
            ("postgres://u@h:0/d", "the port must be"),
            ("postgres://u@h:99999/d", "the port must be"),
            ("postgres://u@h:abc/d", "the port must be"),
            ("postgres://u@h/d/e", "a single database name"),
            ("postgres://u%zz@h/d", "the user has a malformed"),
            ("postgres://u@h/d?sslcert=x", "unknown parameter 'sslcert'"),
            ("postgres://u@h/d?password=x", "the password goes before the host"),
            ("postgres://u@h/d?sslmode=require&sslmode=disable", "'sslmode' is given twice"),
            ("postgres://u@h/d?sslmode", "'sslmode' needs a value"),
            ("postgres://u@h/d?sslmode=verify-ca", "use sslmode=verify-full"),
            ("postgres://u@h/d?sslmode=prefer", "falls back to an unencrypted connection"),
            ("postgres://u@h/d?sslmode=allow", "falls back to an unencrypted connection"),
            ("postgres://u@h/d?sslmode=on", "unknown sslmode 'on' (accepted: disable, require, verify-full)"),
            ("postgres://u@h/d?sslrootcert=/ca.crt", "sslrootcert is used only with sslmode=verify-full"),
            ("postgres://u@h/d?connect_timeout=0", "connect_timeout must be"),
        ])
    func malformedURLsAreRefused(_ text: String, _ message: String) {
        #expect(throws: PostgresURLError.self) { try PostgresLocation(parsing: text) }
        do {
            _ = try PostgresLocation(parsing: text)
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func noURLErrorQuotesThePassword() {
        let secret = Self.password
        for text in [
            "postgres://u:\(secret)@h:x/d", "postgres://u:\(secret)/d", "postgres://u:\(secret)%zz@h/d",
            "postgres://u:\(secret)@h/d?\(secret)=1", "post gres://u:\(secret)@h/d", "\(secret)://u@h",
        ] {
            do {
                _ = try PostgresLocation(parsing: text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(!error.message.contains(secret), "\(error.message)")
            }
        }
    }

    // MARK: the config

    @Test func theConfigsURLBecomesTheLedgersLocation() throws {
        let outcome = try load(
            """
            ledger:
              url: postgres://gridcast@db.example:5432/gridcast?sslmode=verify-full&sslrootcert=db-ca.crt
              instance_timeout: 45s

            """)
        #expect(outcome.problems == [])
        let postgres = try #require(outcome.postgres)
        #expect(postgres.redacted == "postgres://gridcast@db.example:5432/gridcast?sslmode=verify-full")
        #expect(postgres.rootCertificate?.hasPrefix("/") == true, "resolved against the config's directory")
        #expect(postgres.rootCertificate?.hasSuffix("/db-ca.crt") == true)
        #expect(outcome.ledger?.instanceTimeout == .seconds(45))
    }

    @Test func withoutURLTheLedgerIsSQLiteAsBefore() throws {
        let outcome = try load("ledger:\n  path: var/x.sqlite\n")
        #expect(outcome.postgres == nil)
        #expect(outcome.ledger?.asWritten == "var/x.sqlite")
        #expect(outcome.ledger?.path.hasSuffix("/var/x.sqlite") == true)
        #expect(outcome.ledger?.instanceTimeout == .seconds(30))
        let none = try load("")
        #expect(none.postgres == nil)
        #expect(none.ledger?.asWritten == "var/gridcast.sqlite")
    }

    @Test func pathAndURLTogetherAreRefusedAtTheSecondKey() throws {
        let outcome = try load("ledger:\n  path: var/x.sqlite\n  url: postgres://u@db.example/d\n")
        #expect(
            outcome.problems == [
                "gridcast.yaml:3:3: ledger: url and path both given: use path for SQLite or url for PostgreSQL"
            ])
        let reversed = try load("ledger:\n  url: postgres://u@db.example/d\n  path: var/x.sqlite\n")
        #expect(reversed.problems.first?.hasPrefix("gridcast.yaml:3:3: ledger: path and url both given") == true)
    }

    @Test func aBadURLIsRefusedAtItsValue() throws {
        let outcome = try load("ledger:\n  url: postgres://u:\(Self.password)@db.example/d?sslmode=prefer\n")
        #expect(outcome.problems.count == 1)
        #expect(outcome.problems.first?.hasPrefix("gridcast.yaml:2:8: ledger.url: sslmode=prefer") == true)
        #expect(!outcome.problems.joined().contains(Self.password))
    }

    @Test func instanceTimeoutIsADurationOfAtLeastFiveSeconds() throws {
        let url = "ledger:\n  url: postgres://u@db.example/d\n  instance_timeout: "
        #expect(try load(url + "5s\n").ledger?.instanceTimeout == .seconds(5))
        #expect(try load(url + "2m\n").ledger?.instanceTimeout == .seconds(120))
        #expect(
            try load(url + "4s\n").problems == [
                "gridcast.yaml:3:21: ledger.instance_timeout: must be at least 5s, got 4s"
            ])
        #expect(
            try load(url + "soon\n").problems.first?.hasPrefix(
                "gridcast.yaml:3:21: ledger.instance_timeout: expected a duration") == true)
    }

    @Test func postgresSettingsWithoutURLAreWarnedAbout() throws {
        let outcome = try load("ledger:\n  path: x.sqlite\n  instance_timeout: 10s\n  password_file: nowhere\n")
        #expect(outcome.problems == [])
        #expect(
            outcome.warnings == [
                "gridcast.yaml:3:3: ledger.instance_timeout: ignored without ledger.url (a SQLite ledger)",
                "gridcast.yaml:4:3: ledger.password_file: ignored without ledger.url (a SQLite ledger)",
            ])
    }

    // MARK: the password's sources, first found wins

    static let passFile =
        "other.example:5432:*:gridcast:wrong\n# comment\ndb.example:*:gridcast:gridcast:from\\:pgpass\n"

    @Test func theURLsPasswordComesFirstAndIsExpandedFromTheEnvironment() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast:${DB_PASSWORD}@db.example/gridcast\n  password_file: pw\n",
            files: ["pw": "from-file\n", ".pgpass": Self.passFile],
            environment: ["DB_PASSWORD": Self.password, "PGPASSWORD": "from-env"])
        #expect(outcome.problems == [])
        #expect(outcome.postgres?.password == Self.password)
        #expect(outcome.loaded?.config.secrets.contains(Self.password) == true)
    }

    @Test func thePasswordFileComesSecondWholeWithoutItsTrailingNewline() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n  password_file: secrets/pw\n",
            files: ["secrets/pw": " from file \n\n", ".pgpass": Self.passFile], environment: ["PGPASSWORD": "from-env"])
        #expect(outcome.problems == [])
        #expect(outcome.postgres?.password == " from file ")
        #expect(outcome.loaded?.config.secrets.contains(" from file ") == true)
    }

    @Test func anUnreadablePasswordFileIsRefusedAtItsKeyWithoutItsContents() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n  password_file: missing\n",
            environment: ["PGPASSWORD": "from-env"])
        #expect(outcome.problems.count == 1)
        #expect(outcome.problems.first?.hasPrefix("gridcast.yaml:3:3: ledger.password_file: cannot read ") == true)
        #expect(outcome.problems.first?.hasSuffix(": cannot read missing") == true)
        let empty = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n  password_file: pw\n", files: ["pw": "\n"])
        #expect(empty.problems.first?.hasPrefix("gridcast.yaml:3:3: ledger.password_file: ") == true)
    }

    @Test func pgpasswordComesThird() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n", files: [".pgpass": Self.passFile],
            environment: ["PGPASSWORD": "from-env"])
        #expect(outcome.postgres?.password == "from-env")
    }

    @Test func thePassFileComesLastFirstMatchingLineWins() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n", files: [".pgpass": Self.passFile])
        #expect(outcome.postgres?.password == "from:pgpass")
        #expect(outcome.warnings == [])
        let named = try load(
            "ledger:\n  url: postgres://gridcast@other.example/x\n", files: ["elsewhere": Self.passFile],
            environment: ["PGPASSFILE": "/nonexistent", "HOME": "/nonexistent"])
        #expect(named.postgres?.password == nil)
    }

    @Test func pgpassfileNamesThePassFile() throws {
        let directory = try TemporaryDirectory("pgpassfile")
        defer { directory.remove() }
        let file = try directory.write("pass", "*:*:*:*:any\\\\thing")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n", environment: ["PGPASSFILE": file])
        #expect(outcome.postgres?.password == "any\\thing")
    }

    @Test func aPassFileOthersCanReadIsIgnoredWithAWarning() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n", files: [".pgpass": Self.passFile],
            modes: [".pgpass": 0o644])
        #expect(outcome.problems == [])
        #expect(outcome.postgres?.password == nil)
        #expect(outcome.warnings.count == 1)
        #expect(outcome.warnings.first?.contains("ignored: its group or others may read it") == true)
        #expect(outcome.warnings.first?.contains("from") == false)
    }

    // MARK: deferred credentials and redaction

    @Test func anUnsetPasswordVariableIsAProblemUnlessCredentialsAreDeferred() throws {
        let ledger = "ledger:\n  url: postgres://gridcast:${DB_PASSWORD}@db.example/gridcast\n"
        let required = try load(ledger)
        #expect(required.problems == ["gridcast.yaml:2:8: ledger.url: environment variable DB_PASSWORD is not set"])
        let deferred = try load(ledger, files: [".pgpass": Self.passFile], credentials: .deferred)
        #expect(deferred.problems == [])
        #expect(deferred.loaded?.deferred.map(\.variables) == [["DB_PASSWORD"]])
        #expect(deferred.postgres?.password == nil, "not the variable's name, nor another source")
        #expect(deferred.postgres?.redacted == "postgres://gridcast@db.example:5432/gridcast?sslmode=require")
    }

    @Test func aDeferredUnreadablePasswordFileIsOnlyAWarning() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n  password_file: missing\n",
            credentials: .deferred)
        #expect(outcome.problems == [])
        #expect(outcome.postgres?.password == nil)
        #expect(
            outcome.warnings.first?.hasPrefix("gridcast.yaml:3:3: ledger.password_file: cannot read") == true)
    }

    @Test func checkShowsTheRedactedURLAndNeverThePassword() async throws {
        let directory = try TemporaryDirectory("ledger-url-check")
        defer { directory.remove() }
        let path = try directory.write(
            "gridcast.yaml",
            "ledger:\n  url: postgres://gridcast:${DB_PASSWORD}@db.example:5432/gridcast?sslmode=verify-full\n"
                + Self.groups)
        let environment = ["DB_PASSWORD": Self.password, "HOME": directory.path]
        let check = try await GridcastProcess.run(["check", "--config", path], environment: environment)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("ledger postgres://gridcast@db.example:5432/gridcast?sslmode=verify-full;"))
        let ledgerOnly = try await GridcastProcess.run(
            ["check", "--ledger-only", "--config", path], environment: environment)
        #expect(ledgerOnly.status == 0, "\(ledgerOnly.stderr)")
        #expect(ledgerOnly.stdout.contains("ledger postgres://gridcast@db.example:5432/gridcast?sslmode=verify-full;"))
        #expect(!ledgerOnly.stdout.contains("not created yet"))
        let bad = try await GridcastProcess.run(
            [
                "check", "--config",
                try directory.write(
                    "bad.yaml", "ledger:\n  url: postgres://gridcast:${DB_PASSWORD}@db.example:x/g\n" + Self.groups),
            ],
            environment: environment)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.yaml:2:8: ledger.url: the port must be"))
        for output in [check.stdout, check.stderr, ledgerOnly.stdout, ledgerOnly.stderr, bad.stdout, bad.stderr] {
            #expect(!output.contains(Self.password))
        }
    }

    @Test func everyRedactionMasksThePassword() throws {
        let outcome = try load(
            "ledger:\n  url: postgres://gridcast@db.example/gridcast\n", environment: ["PGPASSWORD": Self.password])
        let config = try #require(outcome.loaded?.config)
        let text = "auth failed for \(Self.password) (\(Self.password.replacingOccurrences(of: "-", with: "%2D")))"
        #expect(SecretMask.redact(text, secrets: config.secrets) == "auth failed for *** (***)")
    }
}
