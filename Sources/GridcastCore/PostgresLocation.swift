/// Where a PostgreSQL ledger lives and how to log in to it, from `ledger.url` (libpq's URL form).
///
/// `sslmode` is `disable`, `require` or `verify-full`; when the URL names none it is `disable` for a loopback host
/// (`localhost`, `127.0.0.1`, `::1`) and `require` for any other. `prefer` and `allow` are refused (they fall back
/// to cleartext without a word), and so is `verify-ca` (it checks the certificate but not the host name). The
/// password is never part of ``redacted``, ``description`` or a dump.
public struct PostgresLocation: Sendable, Equatable {
    /// How the connection is encrypted.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Cleartext.
        case disable
        /// Encrypted, the server's certificate not checked.
        case require
        /// Encrypted, the certificate checked against the trusted roots and the host name.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address (an IPv6 address without brackets).
    public var host: String
    /// The server's TCP port.
    public var port: Int = 5432
    /// The role gridcast logs in as.
    public var user: String
    /// The database; the user's name when the URL names none, as libpq does.
    public var database: String
    /// The password: the URL's, else `ledger.password_file`'s, else `PGPASSWORD`, else the passfile's; nil for none.
    public var password: String?
    /// How the connection is encrypted.
    public var tls: TLSMode
    /// The CA certificate file that verifies the server (`sslrootcert=`); nil for the system's trusted roots.
    public var rootCertificate: String?
    /// The `application_name` the server shows for gridcast's sessions.
    public var applicationName = "gridcast"
    /// How long to wait for a connection (`connect_timeout=`, seconds); nil for the store's default.
    public var connectTimeout: Duration?

    /// Creates a location from its parts; `database` defaults to `user`, `tls` to the loopback rule above.
    public init(
        host: String, port: Int = 5432, user: String, database: String? = nil, password: String? = nil,
        tls: TLSMode? = nil, rootCertificate: String? = nil, applicationName: String = "gridcast"
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database ?? user
        self.password = password
        self.tls = tls ?? Self.defaultTLS(host: host)
        self.rootCertificate = rootCertificate
        self.applicationName = applicationName
    }

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?PARAMETERS]` (or `postgresql://`); the user,
    /// password and database are percent-decoded. Parameters: `sslmode`, `sslrootcert`, `application_name`,
    /// `connect_timeout`.
    public init(parsing url: String) throws(PostgresURLError) {
        self = try PostgresURLParser.parse(url)
    }

    /// `sslmode` when the URL names none: no encryption to the same machine, encryption to any other.
    public static func defaultTLS(host: String) -> TLSMode {
        isLoopback(host) ? .disable : .require
    }

    /// Whether `host` is this machine: `localhost`, `127.0.0.1` or `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        ["localhost", "127.0.0.1", "::1"].contains(host.lowercased())
    }

    /// `postgres://USER@HOST:PORT/DATABASE?sslmode=MODE`: the location without its password, for messages.
    public var redacted: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(Self.encoded(user))@\(shownHost):\(port)/\(Self.encoded(database))?sslmode=\(tls.rawValue)"
    }

    /// `text` with everything but RFC 3986's unreserved characters percent-encoded.
    static func encoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                result += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 0xF)])"
            }
        }
        return result
    }
}

extension PostgresLocation: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The ``redacted`` form: interpolating a location never shows its password.
    public var description: String { redacted }

    /// The ``redacted`` form.
    public var debugDescription: String { redacted }

    /// The parts without the password (only whether there is one), for `dump` and debuggers.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "user": user, "database": database,
                "password": password == nil ? "none" : "***", "tls": tls, "rootCertificate": rootCertificate as Any,
                "applicationName": applicationName, "connectTimeout": connectTimeout as Any,
            ])
    }
}
