import Foundation

/// The rules every webhook URL must meet: `https://`, or plain `http://` to a loopback address only.
public enum WebhookURL {
    /// Why `url` may not be used, or nil when it may. The message never contains the URL's credentials.
    public static func problem(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            return "url is not a valid absolute URL"
        }
        guard let host = components.host, !host.isEmpty else {
            return "url has no host"
        }
        switch scheme {
        case "https":
            return nil
        case "http":
            if isLoopback(host) { return nil }
            return "plain http:// is allowed only to loopback addresses; use https:// for \(SecretMask.maskURL(url))"
        default:
            return "url scheme '\(scheme)' is not allowed: use https:// (http:// only to loopback addresses)"
        }
    }

    /// `localhost`, `127.0.0.0/8` and `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        var host = Substring(host.lowercased())
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { UInt8($0) != nil }
    }
}
