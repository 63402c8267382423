import Crypto
import Foundation

/// A shopper's place in a sale's waiting room. The server keeps no state for a waiting
/// shopper: everything it needs travels in this pass, signed so it cannot be forged.
public struct QueuePass: Sendable, Equatable {
    public var saleID: UUID
    /// Random per shopper; also scopes idempotency keys and the one-live-reservation rule.
    public var visitorID: UUID
    /// Set by the server when the shopper first joined; the shopper's place in line.
    public var firstArrival: Date
    /// When the shopper was admitted, nil while waiting.
    public var admittedAt: Date?

    public init(saleID: UUID, visitorID: UUID, firstArrival: Date, admittedAt: Date? = nil) {
        self.saleID = saleID
        self.visitorID = visitorID
        self.firstArrival = firstArrival
        self.admittedAt = admittedAt
    }

    public var isAdmitted: Bool { admittedAt != nil }

    /// When an admitted pass stops admitting: `reservation_ttl_seconds` after admission.
    public func admittedUntil(ttlSeconds: Int) -> Date? {
        admittedAt.map { $0.addingTimeInterval(TimeInterval(ttlSeconds)) }
    }
}

/// Signs and verifies queue passes with HMAC-SHA256 under the deployment's shared secret,
/// so a pass issued by one node is honoured by every node.
///
/// Wire form: base64url(payload ‖ tag), no padding, 87 characters, where payload is
/// version (1 byte) ‖ sale id (16) ‖ visitor id (16) ‖ first arrival ms (8, big endian)
/// ‖ admission ms (8, 0 = waiting) and tag is the HMAC truncated to 128 bits.
public struct PassSigner: Sendable {
    /// Raw key bytes: `SymmetricKey` is not `Sendable`, so one is made per use (cheap).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private static let version: UInt8 = 1
    private static let payloadLength = 49
    private static let tagLength = 16

    /// Any secret string; it is hashed to a 256-bit key.
    public init(secret: String) {
        keyBytes = Array(SHA256.hash(data: Data("flashsale-pass:\(secret)".utf8)))
    }

    public func sign(_ pass: QueuePass) -> String {
        var payload = [UInt8]()
        payload.reserveCapacity(Self.payloadLength + Self.tagLength)
        payload.append(Self.version)
        payload.append(contentsOf: pass.saleID.bytes)
        payload.append(contentsOf: pass.visitorID.bytes)
        payload.append(contentsOf: Self.bigEndian(Self.milliseconds(pass.firstArrival)))
        payload.append(contentsOf: Self.bigEndian(pass.admittedAt.map(Self.milliseconds) ?? 0))
        let tag = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        payload.append(contentsOf: tag.prefix(Self.tagLength))
        return Base64URL.encode(payload)
    }

    /// The pass inside `token` if its signature holds; nil for anything forged or malformed.
    public func verify(_ token: String) -> QueuePass? {
        guard token.utf8.count <= 128, let bytes = Base64URL.decode(token),
            bytes.count == Self.payloadLength + Self.tagLength, bytes[0] == Self.version
        else { return nil }
        let payload = bytes[0..<Self.payloadLength]
        let tag = bytes[Self.payloadLength...]
        let expected = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        // Constant-time comparison of the truncated tag.
        var difference: UInt8 = 0
        for (a, b) in zip(expected.prefix(Self.tagLength), tag) { difference |= a ^ b }
        guard difference == 0 else { return nil }
        let saleID = UUID(bytes: Array(bytes[1..<17]))
        let visitorID = UUID(bytes: Array(bytes[17..<33]))
        let arrival = Self.readBigEndian(bytes[33..<41])
        let admitted = Self.readBigEndian(bytes[41..<49])
        guard arrival > 0 else { return nil }
        return QueuePass(
            saleID: saleID, visitorID: visitorID, firstArrival: Self.date(arrival),
            admittedAt: admitted == 0 ? nil : Self.date(admitted))
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    static func bigEndian(_ value: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * (7 - $0))) }
    }

    static func readBigEndian(_ bytes: ArraySlice<UInt8>) -> Int64 {
        bytes.reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }
}

extension UUID {
    var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == 16)
        self = bytes.withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
    }
}

/// RFC 4648 §5 base64url without padding.
public enum Base64URL {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0.isBase64URL }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = base64.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64 += String(repeating: "=", count: 4 - remainder) }
        guard let bytes = Data(base64Encoded: base64).map({ Array($0) }) else { return nil }
        // Only the canonical spelling: unused trailing bits must be zero, so a token has
        // exactly one accepted form.
        return encode(bytes) == text ? bytes : nil
    }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) || (0x30...0x39).contains(self)
            || self == 0x2D || self == 0x5F
    }
}
