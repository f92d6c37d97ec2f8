import Foundation
import Hummingbird

/// The checks every form POST of the audit page (its actions and logout) passes before anything changes.
///
/// A browser sends the session cookie with any request to the daemon's host — also one another page (another port
/// on the same host counts as the same *site*) makes it send. So a POST must also come from the page itself: its
/// `Origin` (and `Sec-Fetch-Site`, where the browser sends them) must name the daemon's own address, and it must
/// carry the session's CSRF token, which only the page the daemon served to that session holds.
enum AuditActionGuard {
    /// Why a POST is refused (each answered 403).
    enum Refusal: Error, Sendable, Equatable {
        /// No live session: the actions take no bearer token.
        case noSession
        /// The session is a viewer's: it may read, not change.
        case viewer
        /// The POST came from another origin.
        case crossOrigin
        /// The `csrf` field is missing or not the session's token.
        case wrongCSRFToken
    }

    static let secFetchSite = HTTPFields.Element.Name("Sec-Fetch-Site")!
    static let forwardedHost = HTTPFields.Element.Name("X-Forwarded-Host")!
    static let host = HTTPFields.Element.Name("Host")!

    /// Checks origin and CSRF token of a POST made under `session`; with `admin`, also that the session may act.
    static func check(
        _ request: Request, form: AuditForm, session: AuditSessions.Session?, admin: Bool
    ) -> Refusal? {
        guard isSameOrigin(request) else { return .crossOrigin }
        guard let session else { return .noSession }
        guard ConstantTimeComparison.equal((form.value("csrf") ?? "").utf8, Array(session.csrfToken.utf8)) else {
            return .wrongCSRFToken
        }
        if admin, session.role != .admin { return .viewer }
        return nil
    }

    /// False when the browser says the request came from elsewhere: `Sec-Fetch-Site` other than `same-origin`, or
    /// an `Origin` (`null` included) whose host and port are not the ones the request was sent to (`Host`, or
    /// `X-Forwarded-Host` behind a proxy). A request without either header is no browser's: the CSRF token decides.
    static func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[secFetchSite], site.lowercased() != "same-origin" { return false }
        guard let origin = request.headers[.origin] else { return true }
        guard let separator = origin.range(of: "://") else { return false }
        let authority = origin[separator.upperBound...].lowercased()
        let targets = [request.head.authority, request.headers[host], request.headers[forwardedHost]]
        return targets.contains { $0?.lowercased() == authority }
    }
}
