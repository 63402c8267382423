import Crypto
import Foundation

/// The rules of the `Idempotency-Key` header (Stripe / IETF draft semantics).
public enum IdempotencyKey {
    /// 1–255 printable ASCII characters.
    public static func isValid(_ key: String) -> Bool {
        let utf8 = key.utf8
        return (1...255).contains(utf8.count) && utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }

    /// Keys are kept at least this long (the contract says 24 h; we keep 48 h).
    public static let retention: TimeInterval = 48 * 3600
}

/// What the server remembers of a finished request, replayed for the same key and body.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }

    public init(_ error: APIError) {
        self.init(status: error.status, body: error.body)
    }
}

/// Identifies one idempotent request: the key within its scope (endpoint and client) and a
/// fingerprint of the body, so the same key with another body can be told apart.
public struct IdempotencyClaim: Sendable, Equatable, Hashable {
    public var scope: String
    public var key: String
    public var fingerprint: String

    public init(scope: String, key: String, body: some DataProtocol) {
        self.scope = scope
        self.key = key
        fingerprint = Hex.encode(SHA256.hash(data: Data(body)))
    }

    public init(scope: String, key: String, fingerprint: String) {
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
    }
}

/// Lowercase hexadecimal by table (`String(format:)` costs a microsecond a byte).
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output = [UInt8]()
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
