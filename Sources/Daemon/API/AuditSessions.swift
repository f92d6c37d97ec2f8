import Foundation
import GridcastCore
import Hummingbird
import Synchronization

/// The logged-in browsers of the audit page: random session ids held in memory, each with its role and its CSRF
/// token, and the cookie that carries one.
///
/// A session id is 32 bytes from the system's secure random generator, sent as 64 hex digits in the
/// `gridcast_session` cookie — never the API token itself, so a leaked cookie is worth at most ``lifetime`` and
/// dies with logout or a daemon restart. The cookie is `HttpOnly` (no script can read it), `SameSite=Strict` (no
/// other site can make the browser send it) and `Path=/`. It is not `Secure`: the daemon serves plain HTTP on
/// loopback, where a browser would never send a `Secure` cookie back; put a TLS proxy in front before exposing it.
///
/// Each session has its own CSRF token (32 more random bytes), which the page puts in its forms and every form POST
/// must carry back; it is never derived from the session id or a token.
///
/// At most ``capacity`` sessions are kept (the oldest is dropped first). Lookups compare the presented id with every
/// live session in constant time.
final class AuditSessions: Sendable {
    /// A live session as a request sees it.
    struct Session: Sendable, Equatable {
        /// Who logged in.
        var role: AuditRole
        /// The token its forms carry (64 hex digits).
        var csrfToken: String
    }

    /// The cookie's name.
    static let cookieName = "gridcast_session"
    /// How long a session lasts after login.
    static let lifetime: TimeInterval = 12 * 3600
    /// The most sessions kept at once.
    static let capacity = 64

    private struct Entry {
        var id: [UInt8]
        var expires: Date
        var session: Session
    }

    private let sessions = Mutex<[Entry]>([])

    /// Creates an empty session store.
    init() {}

    /// Opens a session for `role` and returns its id, for ``cookie(for:)``.
    func open(now: Date, role: AuditRole = .admin) -> String {
        let id = Self.randomHex()
        let session = Session(role: role, csrfToken: Self.randomHex())
        sessions.withLock { sessions in
            sessions.removeAll { $0.expires <= now }
            if sessions.count >= Self.capacity { sessions.removeFirst(sessions.count - Self.capacity + 1) }
            sessions.append(Entry(id: Array(id.utf8), expires: now.addingTimeInterval(Self.lifetime), session: session))
        }
        return id
    }

    /// True when `presented` is the id of a session that has not expired.
    func isValid(_ presented: some StringProtocol, now: Date) -> Bool {
        session(presented, now: now) != nil
    }

    /// The session `presented` names, if it has not expired.
    func session(_ presented: some StringProtocol, now: Date) -> Session? {
        let bytes = Array(presented.utf8)
        return sessions.withLock { sessions in
            var found: Session?
            for entry in sessions where entry.expires > now {
                // No early exit: every live session is compared in full.
                if ConstantTimeComparison.equal(bytes, entry.id) { found = entry.session }
            }
            return found
        }
    }

    /// 32 bytes from the system's secure random generator, as 64 hex digits.
    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Ends the session `presented` names, if any.
    func close(_ presented: some StringProtocol) {
        let bytes = Array(presented.utf8)
        sessions.withLock { sessions in
            sessions.removeAll { ConstantTimeComparison.equal(bytes, $0.id) }
        }
    }

    /// The id in the request's session cookie, if it has one of the right shape (64 hex digits).
    static func presentedID(in request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, value.utf8.count == 64,
            value.utf8.allSatisfy({
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            })
        else { return nil }
        return value
    }

    /// The cookie that carries session `id`.
    static func cookie(for id: String) -> Cookie {
        Cookie(name: cookieName, value: id, maxAge: Int(lifetime), path: "/", httpOnly: true, sameSite: .strict)
    }

    /// The cookie that makes the browser forget its session.
    static var clearingCookie: Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict)
    }
}
