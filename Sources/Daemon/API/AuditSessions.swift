import Foundation
import GridcastCore
import Hummingbird
import Synchronization

/// The logged-in browsers of the audit page: random session ids held in memory, and the cookie that carries one.
///
/// A session id is 32 bytes from the system's secure random generator, sent as 64 hex digits in the
/// `gridcast_session` cookie — never the API token itself, so a leaked cookie is worth at most ``lifetime`` and
/// dies with logout or a daemon restart. The cookie is `HttpOnly` (no script can read it), `SameSite=Strict` (no
/// other site can make the browser send it) and `Path=/`. It is not `Secure`: the daemon serves plain HTTP on
/// loopback, where a browser would never send a `Secure` cookie back; put a TLS proxy in front before exposing it.
///
/// At most ``capacity`` sessions are kept (the oldest is dropped first). Lookups compare the presented id with every
/// live session in constant time.
final class AuditSessions: Sendable {
    /// The cookie's name.
    static let cookieName = "gridcast_session"
    /// How long a session lasts after login.
    static let lifetime: TimeInterval = 12 * 3600
    /// The most sessions kept at once.
    static let capacity = 64

    private struct Session {
        var id: [UInt8]
        var expires: Date
    }

    private let sessions = Mutex<[Session]>([])

    /// Creates an empty session store.
    init() {}

    /// Opens a session and returns its id, for ``cookie(for:)``.
    func open(now: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        sessions.withLock { sessions in
            sessions.removeAll { $0.expires <= now }
            if sessions.count >= Self.capacity { sessions.removeFirst(sessions.count - Self.capacity + 1) }
            sessions.append(Session(id: Array(id.utf8), expires: now.addingTimeInterval(Self.lifetime)))
        }
        return id
    }

    /// True when `presented` is the id of a session that has not expired.
    func isValid(_ presented: some StringProtocol, now: Date) -> Bool {
        let bytes = Array(presented.utf8)
        return sessions.withLock { sessions in
            var found = false
            for session in sessions where session.expires > now {
                // No early exit: every live session is compared in full.
                found = ConstantTimeComparison.equal(bytes, session.id) || found
            }
            return found
        }
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
