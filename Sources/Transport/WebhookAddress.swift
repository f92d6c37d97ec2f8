import CCurl

/// A webhook URL as libcurl itself reads it (`curl_url`), so the safety rules are checked on exactly the scheme
/// and host the transport will connect to — no second URL parser that could disagree about `user@host` tricks.
public struct WebhookAddress: Sendable, Equatable {
    /// Lowercased scheme.
    public var scheme: String
    /// Host name or address, without brackets.
    public var host: String
    /// The path, percent-encoded as written.
    public var path: String
    /// The query as written (percent-encoded), without the `?`.
    public var rawQuery: String

    /// Query parameters, percent-decoded; the first value of a repeated name wins.
    public var query: [String: String] {
        var query: [String: String] = [:]
        forEachParameter { name, value in
            if query[name] == nil { query[name] = value() }
            return true
        }
        return query
    }

    /// Parses `url`; nil when libcurl can't read it as an absolute URL with a host.
    public init?(_ url: String) {
        CurlGlobal.initializeOnce()
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, url, UInt32(CURLU_NON_SUPPORT_SCHEME)) == CURLUE_OK else {
            return nil
        }
        func part(_ which: CURLUPart, _ flags: Int32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &value, UInt32(flags)) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        guard let scheme = part(CURLUPART_SCHEME), let host = part(CURLUPART_HOST), !host.isEmpty else { return nil }
        self.scheme = scheme.lowercased()
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.path = part(CURLUPART_PATH) ?? "/"
        self.rawQuery = part(CURLUPART_QUERY) ?? ""
    }

    /// The percent-decoded value of the first query parameter called `name`, nil when there is none. Looks for
    /// it without decoding the whole query: every group's URL is checked at load.
    public func queryValue(named name: String) -> String? {
        var found: String?
        forEachParameter { parameter, value in
            guard parameter == name else { return true }
            found = value()
            return false
        }
        return found
    }

    /// Calls `body` with each parameter's decoded name and a way to decode its value, in order, until it returns
    /// false. Splits on bytes: Character splitting is the slow part.
    private func forEachParameter(_ body: (String, () -> String) -> Bool) {
        for pair in rawQuery.utf8.split(separator: UInt8(ascii: "&")) {
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let name = Self.percentDecoded(Substring(pair[..<equals]))
            let more = body(name) {
                equals == pair.endIndex ? "" : Self.percentDecoded(Substring(pair[equals...].dropFirst()))
            }
            if !more { return }
        }
    }

    /// Whether the host is a loopback address: `localhost`, `127.0.0.0/8` or `::1`.
    public var isLoopback: Bool {
        // Addresses first: they need no lowercased copy of the host.
        if Self.isLoopbackIPv4(host) { return true }
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1"
    }

    /// Whether `host` is four dot-separated decimal octets (0–255), the first written `127`.
    static func isLoopbackIPv4(_ host: String) -> Bool {
        guard host.utf8.starts(with: "127.".utf8) else { return false }
        var dots = 0
        var value = 0
        var digits = 0
        for byte in host.utf8.dropFirst(4) {
            switch byte {
            case UInt8(ascii: "."):
                guard digits > 0 else { return false }
                dots += 1
                value = 0
                digits = 0
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard value <= 255 else { return false }
            default:
                return false
            }
        }
        return dots == 2 && digits > 0
    }

    /// Why `url` may not be used as a webhook, or nil when it may: `https://`, or plain `http://` to a loopback
    /// address only. `masked` is how the URL may be shown (credentials hidden).
    public static func problem(_ url: String, masked: @autoclosure () -> String) -> String? {
        guard let address = WebhookAddress(url) else { return "url is not a valid absolute URL" }
        return address.problem(masked: masked())
    }

    /// Why this address may not be used as a webhook, or nil when it may.
    public func problem(masked: @autoclosure () -> String) -> String? {
        switch scheme {
        case "https":
            return nil
        case "http":
            return isLoopback
                ? nil : "plain http:// is allowed only to loopback addresses; use https:// for \(masked())"
        default:
            return "url scheme '\(scheme)' is not allowed: use https:// (http:// only to loopback addresses)"
        }
    }

    private static func percentDecoded(_ text: Substring) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
