import Foundation
import Yams

/// The `ledger:` section: a SQLite file (`path`) or a PostgreSQL server (`url`), and the PostgreSQL password.
extension Reader {
    /// The shortest `ledger.instance_timeout`: below it a busy instance could be taken for a dead one.
    static let minimumInstanceTimeout = Duration.seconds(5)

    /// The ledger's settings; `path` as written (the loader resolves it), the rest resolved against the config.
    mutating func ledger(_ mapping: Node.Mapping, resolve: (String) -> String) -> LedgerSettings {
        var settings = LedgerSettings()
        var url: (String, SourceLocation)?
        var store: String?
        var passwordFile: (String, SourceLocation)?
        var timeoutAt: SourceLocation?
        for (key, value) in entries(mapping, allowed: ConfigLoader.ledgerKeys, context: "ledger") {
            let keyAt = keyLocation(key, in: mapping) ?? location(value)
            switch key {
            case "path", "url":
                if let store {
                    error(keyAt, "ledger: \(key) and \(store) both given: use path for SQLite or url for PostgreSQL")
                    continue
                }
                store = key
                if key == "path" {
                    if let (path, _) = string(value, "ledger.path") { settings.path = path }
                } else {
                    url = string(value, "ledger.url", credential: true)
                }
            case "password_file":
                if let (path, _) = string(value, "ledger.password_file") { passwordFile = (path, keyAt) }
            case "instance_timeout":
                timeoutAt = keyAt
                guard let timeout = duration(value, "ledger.instance_timeout") else { continue }
                guard timeout >= Self.minimumInstanceTimeout else {
                    let minimum = DurationSyntax.format(Self.minimumInstanceTimeout)
                    error(
                        location(value),
                        "ledger.instance_timeout: must be at least \(minimum), got \(DurationSyntax.format(timeout))")
                    continue
                }
                settings.instanceTimeout = timeout
            default:
                break
            }
        }
        guard let (text, at) = url else {
            if store != "url" {
                for (key, keyAt) in [("password_file", passwordFile?.1), ("instance_timeout", timeoutAt)] {
                    guard let keyAt else { continue }
                    warnings.append(Diagnostic(keyAt, "ledger.\(key): ignored without ledger.url (a SQLite ledger)"))
                }
            }
            return settings
        }
        var location: PostgresLocation
        do {
            location = try PostgresLocation(parsing: text)
        } catch {
            self.error(at, "ledger.url: \(error.message)")
            return settings
        }
        if let certificate = location.rootCertificate { location.rootCertificate = resolve(certificate) }
        if unexpanded.contains(at) && location.password?.contains("${") == true {
            // Credentials deferred and the password's variable unset: the command logs in without one.
            location.password = nil
        } else {
            location.password = ledgerPassword(for: location, file: passwordFile, urlAt: at, resolve: resolve)
        }
        settings.postgres = location
        return settings
    }

    /// The first password found: the URL's, `password_file`'s, `PGPASSWORD`, then the password file libpq reads.
    private mutating func ledgerPassword(
        for location: PostgresLocation, file: (String, SourceLocation)?, urlAt: SourceLocation,
        resolve: (String) -> String
    ) -> String? {
        if let password = location.password { return password }
        if let (path, at) = file {
            let resolved = resolve(path)
            guard let data = FileManager.default.contents(atPath: resolved),
                var password = String(data: data, encoding: .utf8)
            else {
                // Deferred, it may be a systemd credential only the service reads: the command logs in without it.
                if expansion.credentials == .required {
                    error(at, "ledger.password_file: cannot read \(resolved)")
                } else {
                    warnings.append(Diagnostic(at, "ledger.password_file: cannot read \(resolved); logging in without"))
                }
                return nil
            }
            while password.last?.isNewline == true { password.removeLast() }
            guard !password.isEmpty else {
                error(at, "ledger.password_file: \(resolved) is empty")
                return nil
            }
            return password
        }
        switch PostgresPassFile.lookup(for: location, environment: expansion.environment) {
        case .password(let password):
            return password
        case .none:
            return nil
        case .ignored(let path):
            warnings.append(
                Diagnostic(
                    urlAt, "ledger.url: password file \(path) ignored: its group or others may read it (chmod 600)"))
            return nil
        }
    }
}
