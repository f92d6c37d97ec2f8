import Foundation
import GridcastCore
import PostgresNIO

extension PostgresLocation {
    /// The connection pool's configuration: the location's server, login and TLS, a short connect timeout (the
    /// store's own deadline bounds every call) and `application_name`.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: try tlsConfiguration().map { .require($0) } ?? .disable)
        configuration.options.connectTimeout = connectTimeout ?? .seconds(5)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        configuration.options.maximumConnections = 16
        // A name for the certificate check only when the host is one: an IP address is checked against the
        // certificate's IP names.
        if tls == .verifyFull && !host.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) {
            configuration.options.tlsServerName = host
        }
        return configuration
    }

    /// One connection's configuration, for a direct connection that reports a failure at once (the pool retries).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            try tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        if tls.isEnforced, self.tls == .verifyFull, !host.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) {
            configuration.options.tlsServerName = host
        }
        return configuration
    }

    /// `sslmode` as NIOSSL does it: `require` encrypts without checking the certificate (as libpq without a root
    /// certificate), `verify-full` checks the chain against `sslrootcert` (or the system's roots) and the host name.
    /// Nil for `disable`.
    private func tlsConfiguration() throws -> TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch self.tls {
        case .disable:
            return nil
        case .require:
            tls.certificateVerification = .none
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            if let rootCertificate {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate))
                } catch {
                    throw LedgerError.invalid("ledger.url: cannot read sslrootcert \(rootCertificate): \(error)")
                }
            }
        }
        return tls
    }
}
