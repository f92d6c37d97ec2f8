/// Where WeCom API requests go: URLs under `/cgi-bin/`, query values percent-encoded.
enum WeComAPI {
    /// The most answer bytes kept: a group's details with 2,000 members, or a page of 1,000 results, fits.
    static let responseLimit = 4 * 1024 * 1024

    /// `{api}/cgi-bin/{path}?name=value&…`, each value percent-encoded.
    static func url(_ api: String, _ path: String, query: [(String, String)]) -> String {
        let base = api.hasSuffix("/") ? String(api.dropLast()) : api
        let parameters = query.map { "\($0.0)=\(AppText.percentEncoded($0.1))" }.joined(separator: "&")
        return "\(base)/cgi-bin/\(path)" + (parameters.isEmpty ? "" : "?" + parameters)
    }
}
