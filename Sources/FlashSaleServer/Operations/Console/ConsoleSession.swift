import Crypto
import FlashSaleCore
import Foundation
import Hummingbird
import Synchronization

/// The operator's signed-in session at `/admin`: a stateless cookie any node verifies, so
/// that a dashboard behind a load balancer needs no shared session store.
///
/// The cookie reads `v1.<expiry, Unix ms>.<nonce, 16 bytes>.<tag>` (base64url): the tag is
/// HMAC-SHA256 over the rest, keyed from the deployment's secret and the admin token, so
/// changing either signs every operator out. The anti-forgery token of the session's forms
/// is an HMAC of its nonce under the same key (the synchronizer-token pattern of the OWASP
/// CSRF Prevention Cheat Sheet), checked together with `SameSite=Strict` and `Origin`.
struct ConsoleSession: Sendable {
    static let cookieName = "flashsale_admin"
    /// Twelve hours: a working day's sale, then sign in again.
    static let lifetime: TimeInterval = 12 * 3600

    struct Session: Sendable, Equatable {
        let nonce: [UInt8]
        let expires: Date
    }

    /// Kept as bytes: `SymmetricKey` is not `Sendable`.
    private let key: [UInt8]
    /// Sessions signed out before they expired, by nonce, until they would have expired:
    /// on this node (a cookie has no server state to delete; the browser drops it too).
    private let revoked: Revocations

    init(secret: String, adminToken: String) {
        key = Array(SHA256.hash(data: Data("flashsale-console\u{0}\(secret)\u{0}\(adminToken)".utf8)))
        revoked = Revocations()
    }

    /// A new session from `now`, as its cookie value.
    func issue(now: Date) -> (value: String, session: Session) {
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let expires = now.addingTimeInterval(Self.lifetime)
        let body = "v1.\(Int64((expires.timeIntervalSince1970 * 1000).rounded())).\(Base64URL.encode(nonce))"
        return ("\(body).\(tag(body))", Session(nonce: nonce, expires: expires))
    }

    /// The session a cookie value stands for: nil when forged, malformed or expired.
    func verify(_ value: String, now: Date) -> Session? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let ms = Int64(parts[1]), let nonce = Base64URL.decode(String(parts[2])),
            nonce.count == 16
        else { return nil }
        let body = parts[0..<3].joined(separator: ".")
        guard AdminAuthMiddleware<AppRequestContext>.constantTimeEqual(Array(tag(body).utf8), Array(parts[3].utf8)) else { return nil }
        let expires = Date(timeIntervalSince1970: Double(ms) / 1000)
        guard expires > now, !revoked.contains(nonce, now: now) else { return nil }
        return Session(nonce: nonce, expires: expires)
    }

    /// The session of a request's `flashsale_admin` cookie, if any is valid.
    func session(in request: Request, now: Date) -> Session? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == Self.cookieName else { continue }
                if let session = verify(parts[1].trimmingCharacters(in: .whitespaces), now: now) { return session }
            }
        }
        return nil
    }

    /// Signs a session out on this node: its cookie opens nothing here from now on.
    func revoke(_ session: Session) { revoked.add(session) }

    /// The anti-forgery token the session's forms carry.
    func formToken(for session: Session) -> String { tag("csrf." + Base64URL.encode(session.nonce)) }

    func isValidFormToken(_ token: String, for session: Session) -> Bool {
        AdminAuthMiddleware<AppRequestContext>.constantTimeEqual(Array(token.utf8), Array(formToken(for: session).utf8))
    }

    /// `Set-Cookie` for a new session; `HttpOnly` (no script reads it) and `SameSite=Strict`
    /// (no other site's page sends it).
    static func setCookie(_ value: String) -> String {
        "\(cookieName)=\(value); Path=/; Max-Age=\(Int(lifetime)); HttpOnly; SameSite=Strict"
    }

    static let clearCookie = "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"

    private func tag(_ body: String) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: key))))
    }
}

/// Revoked sessions, forgotten once they would have expired anyway; at most `limit`
/// (sign-outs are rare: a flood of them keeps the newest).
final class Revocations: Sendable {
    static let limit = 10_000
    private let nonces = Mutex<[[UInt8]: Date]>([:])

    func add(_ session: ConsoleSession.Session) {
        nonces.withLock { nonces in
            nonces[session.nonce] = session.expires
            if nonces.count > Self.limit, let oldest = nonces.min(by: { $0.value < $1.value })?.key { nonces[oldest] = nil }
        }
    }

    func contains(_ nonce: [UInt8], now: Date) -> Bool {
        nonces.withLock { nonces in
            guard let expires = nonces[nonce] else { return false }
            if expires <= now { nonces[nonce] = nil }
            return expires > now
        }
    }
}
