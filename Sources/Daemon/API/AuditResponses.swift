import Hummingbird
import Reports

/// The audit page's answers — HTML, CSV, redirects — each with the same protective headers.
///
/// The policy allows inline styles and `data:` images and nothing else: no script runs, nothing is fetched from
/// elsewhere, forms post only back to the daemon, and no other site may frame the page. Nothing is cached. The
/// referrer policy is `same-origin`: no address of the page leaves it, and the page's own form posts carry their
/// `Origin` (under `no-referrer` a browser sends `Origin: null`, which ``AuditActionGuard`` could not tell from
/// another site's).
enum AuditResponses {
    /// `Content-Security-Policy` of every audit answer.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
        + "base-uri 'none'"

    /// Header names swift-http-types has no constant for.
    static let frameOptions = HTTPFields.Element.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!

    /// The headers every audit answer carries.
    static var securityHeaders: HTTPFields {
        [
            .contentSecurityPolicy: contentSecurityPolicy,
            frameOptions: "DENY",
            .xContentTypeOptions: "nosniff",
            referrerPolicy: "same-origin",
            .cacheControl: "no-store",
        ]
    }

    /// An HTML page.
    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"gridcast\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A CSV download named `filename`, with the byte order mark Excel needs to read it as UTF-8.
    static func csv(_ text: String, filename: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        let body = ByteBuffer(string: ReportFormat.byteOrderMark + text)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// A plain-text answer (refusals of the CSV routes).
    static func text(_ text: String, status: HTTPResponse.Status) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"gridcast\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303 See Other to `location` (a path on this server), so a reload after a form post doesn't post again.
    static func seeOther(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }
}
