/// Why a `ledger.url` is not a PostgreSQL URL gridcast can use; no message ever quotes the password.
public enum PostgresURLError: Error, Sendable, Equatable {
    /// Not `postgres://` or `postgresql://`; the scheme written, when it looks like one.
    case scheme(String?)
    /// No `user@` before the host.
    case missingUser
    /// No host after `://` (or after `user@`).
    case missingHost
    /// More than one host (`h1,h2`): gridcast connects to one server.
    case severalHosts
    /// The port is not a number from 1 to 65535.
    case port
    /// A `%XX` sequence that does not decode to UTF-8, in the named part (user, password, database, a parameter).
    case percentEncoding(String)
    /// The path names more than a database (`/db/more`).
    case path
    /// A query parameter gridcast does not take.
    case unknownParameter(String)
    /// `password=` in the query instead of the userinfo.
    case passwordParameter
    /// A query parameter given twice.
    case repeatedParameter(String)
    /// A query parameter without `=value`.
    case parameterWithoutValue(String)
    /// An `sslmode` gridcast refuses, with the value written.
    case sslmode(String)
    /// `sslrootcert` with an `sslmode` that does not verify the server.
    case rootCertificateWithoutVerification
    /// `connect_timeout` is not a whole number of seconds from 1 to 3600.
    case connectTimeout(String)

    /// The shape every message points to.
    static let shape = "postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=…]"

    /// What is wrong, in words that never contain the password.
    public var message: String {
        switch self {
        case .scheme(let scheme?):
            "expected a postgres:// or postgresql:// URL, not \(scheme)://"
        case .scheme(nil):
            "expected a URL such as \(Self.shape)"
        case .missingUser:
            "names no user: write \(Self.shape)"
        case .missingHost:
            "names no host: write \(Self.shape)"
        case .severalHosts:
            "names several hosts: gridcast connects to one server"
        case .port:
            "the port must be a number from 1 to 65535 (percent-encode : / @ in the user or password as %3A %2F %40)"
        case .percentEncoding(let part):
            "the \(part) has a malformed %XX sequence"
        case .path:
            "the path must be a single database name (/DATABASE); percent-encode a / in it as %2F"
        case .unknownParameter(let name):
            "unknown parameter '\(name)' (accepted: sslmode, sslrootcert, application_name, connect_timeout)"
        case .passwordParameter:
            "the password goes before the host (postgres://USER:PASSWORD@HOST/…) or in ledger.password_file, "
                + "not in the query"
        case .repeatedParameter(let name):
            "parameter '\(name)' is given twice"
        case .parameterWithoutValue(let name):
            "parameter '\(name)' needs a value (\(name)=…)"
        case .sslmode("verify-ca"):
            "sslmode=verify-ca checks the certificate but not the host name: use sslmode=verify-full"
        case .sslmode(let mode) where mode == "prefer" || mode == "allow":
            "sslmode=\(mode) falls back to an unencrypted connection without a word: use disable, require or "
                + "verify-full"
        case .sslmode(let mode):
            "unknown sslmode '\(mode)' (accepted: disable, require, verify-full)"
        case .rootCertificateWithoutVerification:
            "sslrootcert is used only with sslmode=verify-full"
        case .connectTimeout(let text):
            "connect_timeout must be a whole number of seconds from 1 to 3600, got '\(text)'"
        }
    }
}
