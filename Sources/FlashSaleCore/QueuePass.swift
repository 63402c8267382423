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

/// RFC 4648 §5 base64url without padding, by table: every join and poll signs and reads a
/// pass, and Foundation's string replacement costs more than the HMAC.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output = [UInt8]()
        output.reserveCapacity((input.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
            index += 3
        }
        let rest = input.count - index
        if rest > 0 {
            let chunk = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            if rest == 2 { output.append(alphabet[Int(chunk >> 6 & 0x3F)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of `text`; nil unless it is canonical base64url (no padding, and unused
    /// trailing bits zero, so every byte string has exactly one accepted spelling).
    public static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        if input.count % 4 == 1 { return nil }
        var output = [UInt8]()
        output.reserveCapacity(input.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = values[Int(byte)]
            if value == 0xFF { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        if bits > 0 && buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return output
    }
}
