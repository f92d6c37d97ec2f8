import Foundation

/// The reader of libpq's URL form behind ``PostgresLocation/init(parsing:)``.
///
/// As libpq does, the userinfo ends at the first `@` unless a `/` comes first, so `@` and `/` in a user or password
/// must be percent-encoded; nothing of the userinfo is ever quoted in an error.
enum PostgresURLParser {
    static func parse(_ url: String) throws(PostgresURLError) -> PostgresLocation {
        guard let separator = url.range(of: "://") else { throw .scheme(nil) }
        let scheme = url[..<separator.lowerBound]
        guard ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            // Quoted only when it can't be a password typed in the wrong place: a short word of letters.
            let looksLikeScheme = scheme.count <= 12 && scheme.allSatisfy { $0.isASCII && $0.isLetter }
            throw .scheme(looksLikeScheme ? String(scheme) : nil)
        }
        var rest = url[separator.upperBound...]
        var user: String?
        var password: String?
        if let at = rest.firstIndex(where: { $0 == "@" || $0 == "/" }), rest[at] == "@" {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = userinfo.firstIndex(of: ":")
            user = try decoded(userinfo[..<(colon ?? userinfo.endIndex)], "user")
            if let colon { password = try decoded(userinfo[userinfo.index(after: colon)...], "password") }
        }
        let (host, port, afterAuthority) = try authority(rest)
        guard let user, !user.isEmpty else { throw .missingUser }
        var location = PostgresLocation(host: host, port: port, user: user, password: password?.nilIfEmpty)
        var query = Substring("")
        var path = afterAuthority
        if let mark = afterAuthority.firstIndex(of: "?") {
            path = afterAuthority[..<mark]
            query = afterAuthority[afterAuthority.index(after: mark)...]
        }
        if path.hasPrefix("/") { path = path.dropFirst() }
        guard !path.contains("/") else { throw .path }
        if !path.isEmpty { location.database = try decoded(path, "database") }
        try apply(query, to: &location)
        return location
    }

    /// The host, the port and what follows them (the path and the query).
    private static func authority(
        _ text: Substring
    ) throws(PostgresURLError) -> (host: String, port: Int, rest: Substring) {
        var rest = text
        let host: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .missingHost }
            host = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
        } else {
            let end = rest.firstIndex { ":/?".contains($0) } ?? rest.endIndex
            host = rest[..<end]
            rest = rest[end...]
        }
        guard !host.isEmpty else { throw .missingHost }
        guard !host.contains(",") else { throw .severalHosts }
        var port = 5432
        if rest.hasPrefix(":") {
            let end = rest.firstIndex { "/?".contains($0) } ?? rest.endIndex
            let digits = rest[rest.index(after: rest.startIndex)..<end]
            guard digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits),
                (1...65535).contains(number)
            else { throw .port }
            port = number
            rest = rest[end...]
        }
        return (String(host), port, rest)
    }

    /// Applies the query's parameters, then checks that they agree.
    private static func apply(_ query: Substring, to location: inout PostgresLocation) throws(PostgresURLError) {
        var seen: Set<String> = []
        var tls: PostgresLocation.TLSMode?
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decoded(parts[0], "parameter name")
            guard ["sslmode", "sslrootcert", "application_name", "connect_timeout"].contains(name) else {
                if name == "password" { throw .passwordParameter }
                let plain = name.count <= 40 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
                throw .unknownParameter(plain ? name : "?")
            }
            guard seen.insert(name).inserted else { throw .repeatedParameter(name) }
            guard parts.count == 2, !parts[1].isEmpty else { throw .parameterWithoutValue(name) }
            let value = try decoded(parts[1], name)
            switch name {
            case "sslmode":
                guard let mode = PostgresLocation.TLSMode(rawValue: value) else { throw .sslmode(value) }
                tls = mode
            case "sslrootcert":
                location.rootCertificate = value
            case "application_name":
                location.applicationName = value
            default:
                guard let seconds = Int(value), (1...3600).contains(seconds) else { throw .connectTimeout(value) }
                location.connectTimeout = .seconds(seconds)
            }
        }
        if let tls { location.tls = tls }
        if location.rootCertificate != nil && location.tls != .verifyFull {
            throw .rootCertificateWithoutVerification
        }
    }

    private static func decoded(_ text: Substring, _ part: String) throws(PostgresURLError) -> String {
        guard let decoded = String(text).removingPercentEncoding else { throw .percentEncoding(part) }
        return decoded
    }
}

extension String {
    /// nil for the empty string.
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
