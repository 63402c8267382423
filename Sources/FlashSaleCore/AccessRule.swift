import Foundation

/// One entry of the operator's access lists: a network that is blocked (403 `blocked` on
/// every shop route) or allowed (exempt from the per-client limits and from the blocklist,
/// never from authentication). Rules may expire (temporary blocks).
public struct AccessRule: Sendable, Equatable {
    public enum List: String, Sendable, CaseIterable {
        case block, allow
    }

    public var list: List
    public var cidr: CIDR
    public var reason: String
    public var createdAt: Date
    /// nil: until removed.
    public var expiresAt: Date?

    public init(list: List, cidr: CIDR, reason: String, createdAt: Date, expiresAt: Date? = nil) {
        self.list = list
        self.cidr = cidr
        self.reason = reason
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    public func isActive(at now: Date) -> Bool { expiresAt.map { now < $0 } ?? true }
}

/// The body of `POST /api/v1/admin/blocklist` (and `/allowlist`):
/// `{"cidr": "203.0.113.0/24", "reason": "...", "expires_at": "...Z"}`; `reason` and
/// `expires_at` are optional.
public struct NewAccessRule: Sendable, Equatable, Decodable {
    public var cidr: String
    public var reason: String?
    public var expiresAt: Date?

    /// Longest reason kept, in characters.
    public static let maxReasonLength = 500

    enum CodingKeys: String, CodingKey {
        case cidr, reason, expiresAt = "expires_at"
    }

    public init(cidr: String, reason: String? = nil, expiresAt: Date? = nil) {
        self.cidr = cidr
        self.reason = reason
        self.expiresAt = expiresAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cidr = try c.decode(String.self, forKey: .cidr)
        reason = try c.decodeOptional(String.self, forKey: .reason)
        expiresAt = try c.decodeOptional(Date.self, forKey: .expiresAt)
    }

    /// The rule this body asks for, or a 422 naming the field at fault: a CIDR that does
    /// not parse (`300.1.1.1/8`, `10.0.0.0/33`, `x`, `1.2.3.4/-1`, ''), a reason with
    /// control characters or over `maxReasonLength`, an expiry not in the future.
    public func rule(on list: AccessRule.List, now: Date) throws(APIError) -> AccessRule {
        guard let network = CIDR(cidr) else {
            throw .validation("cidr must be an IPv4 or IPv6 network such as 203.0.113.0/24 or 2001:db8::/48")
        }
        let reason = reason ?? ""
        try TextField.check(reason, field: "reason", maxLength: Self.maxReasonLength, allowEmpty: true)
        if let expiresAt, expiresAt <= now { throw .validation("expires_at must be in the future") }
        return AccessRule(list: list, cidr: network, reason: reason, createdAt: now, expiresAt: expiresAt)
    }
}
