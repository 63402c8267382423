import Crypto
import Foundation

/// The proof-of-work levels a join can be asked to pay, by risk (`RiskScore.join`).
///
/// Level n is `bits[n]` leading zero bits of `sha256(prefix + nonce)`: 2^bits tries on
/// average. Measured solve times are in BENCHMARKS.md ("Proof of work"); in round figures a
/// browser's Web Worker does a few million tries a second here, so level 1 costs
/// milliseconds, level 3 a fraction of a second, level 5 tens of seconds and level 6
/// minutes. Level 0 asks nothing: an honest first join from a quiet address never waits.
/// Compare mCaptcha, which raises the difficulty in steps with the site's traffic.
public struct ChallengeLevels: Sendable, Equatable {
    /// Zero bits per level, non-decreasing, starting at 0.
    public var bits: [Int]

    public static let standard = ChallengeLevels(bits: [0, 12, 16, 19, 22, 25, 28])

    public init(bits: [Int]) {
        precondition(!bits.isEmpty && bits[0] == 0 && zip(bits, bits.dropFirst()).allSatisfy { $0 <= $1 } && bits.last! <= 40)
        self.bits = bits
    }

    /// The level of a score: one level per whole point, up to the last.
    public func level(for score: Double) -> Int {
        guard score.isFinite, score > 0 else { return 0 }
        return min(bits.count - 1, Int(score.rounded(.down)))
    }

    public func difficultyBits(level: Int) -> Int { bits[max(0, min(bits.count - 1, level))] }
}

/// A proof-of-work challenge as the server signs it: stateless, so any node verifies it in
/// O(1) (one HMAC, one SHA-256), bound to the sale and the client's address, and expiring.
/// Compare ALTCHA's signed challenges (HMAC over the salt and parameters, with an expiry).
///
/// The signed token is itself the challenge's `prefix` and travels back as the pass (the
/// `X-Queue-Pass` header or the `queue_pass` cookie) with the nonce in `X-Queue-Proof`.
/// A token can be redeemed once (`SpentChallenges`), from the address it was issued to,
/// before `expiresAt`.
public struct Challenge: Sendable, Equatable {
    public var saleID: UUID
    /// First 8 bytes of SHA-256 of the client's address bytes: binds without disclosing.
    public var client: UInt64
    public var difficultyBits: Int
    public var issuedAt: Date
    /// Random per challenge: two shoppers behind one address get different prefixes.
    public var salt: UInt64

    /// How long a challenge may take to solve and redeem: the top level averages 3.5 min in
    /// Chromium here and a phone may be four times slower; the spent table holds each
    /// redeemed challenge this long.
    public static let lifetime: TimeInterval = 1_800

    public init(saleID: UUID, client: [UInt8], difficultyBits: Int, issuedAt: Date, salt: UInt64 = .random(in: .min ... .max)) {
        self.init(saleID: saleID, clientHash: Self.hash(client), difficultyBits: difficultyBits, issuedAt: issuedAt, salt: salt)
    }

    init(saleID: UUID, clientHash: UInt64, difficultyBits: Int, issuedAt: Date, salt: UInt64) {
        self.saleID = saleID
        self.client = clientHash
        self.difficultyBits = difficultyBits
        self.issuedAt = issuedAt
        self.salt = salt
    }

    public var expiresAt: Date { issuedAt.addingTimeInterval(Self.lifetime) }

    public func isIssued(to address: [UInt8]) -> Bool { client == Self.hash(address) }

    static func hash(_ address: [UInt8]) -> UInt64 {
        SHA256.hash(data: address).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}

/// Signs and reads `Challenge` tokens with HMAC-SHA256 under the deployment's secret (a key
/// of its own, derived apart from the pass key).
///
/// Wire form: base64url(payload ‖ tag), 78 characters, where payload is version 2 (1 byte;
/// passes are version 1) ‖ sale id (16) ‖ client hash (8) ‖ bits (1) ‖ issued ms (8, big
/// endian) ‖ salt (8), and tag is the HMAC truncated to 128 bits.
public struct ChallengeSigner: Sendable {
    private let keyBytes: [UInt8]
    private static let version: UInt8 = 2
    private static let payloadLength = 42
    private static let tagLength = 16

    public init(secret: String) {
        keyBytes = Array(SHA256.hash(data: Data("flashsale-challenge:\(secret)".utf8)))
    }

    public func sign(_ challenge: Challenge) -> String {
        var payload: [UInt8] = [Self.version]
        payload.append(contentsOf: challenge.saleID.bytes)
        payload.append(contentsOf: PassSigner.bigEndian(Int64(bitPattern: challenge.client)))
        payload.append(UInt8(clamping: challenge.difficultyBits))
        payload.append(contentsOf: PassSigner.bigEndian(PassSigner.milliseconds(challenge.issuedAt)))
        payload.append(contentsOf: PassSigner.bigEndian(Int64(bitPattern: challenge.salt)))
        payload.append(contentsOf: HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: keyBytes)).prefix(Self.tagLength))
        return Base64URL.encode(payload)
    }

    /// The challenge inside `token` if its signature holds; nil for anything else
    /// (including passes, which are version 1).
    public func verify(_ token: String) -> Challenge? {
        guard token.utf8.count <= 96, let bytes = Base64URL.decode(token),
            bytes.count == Self.payloadLength + Self.tagLength, bytes[0] == Self.version
        else { return nil }
        let payload = bytes[0..<Self.payloadLength]
        let expected = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: keyBytes))
        var difference: UInt8 = 0
        for (a, b) in zip(expected.prefix(Self.tagLength), bytes[Self.payloadLength...]) { difference |= a ^ b }
        guard difference == 0 else { return nil }
        return Challenge(
            saleID: UUID(bytes: Array(bytes[1..<17])),
            clientHash: UInt64(bitPattern: PassSigner.readBigEndian(bytes[17..<25])),
            difficultyBits: Int(bytes[25]),
            issuedAt: PassSigner.date(PassSigner.readBigEndian(bytes[26..<34])),
            salt: UInt64(bitPattern: PassSigner.readBigEndian(bytes[34..<42])))
    }
}

/// The challenges already redeemed, so that one solved challenge buys one pass. Entries
/// live until their challenge expires; the table holds at most `capacity` (about 40 bytes
/// each) and, when full, forgets the oldest first, which are the first to expire anyway.
/// A value type for its caller's lock. Per node: on several nodes a token could be
/// redeemed once on each, which bounds the gift to the node count.
public struct SpentChallenges: Sendable {
    public let capacity: Int
    private var expiries: [UInt64: Double] = [:]
    private var order: [(salt: UInt64, expiresAt: Double)] = []
    private var head = 0

    public init(capacity: Int = 500_000) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    public var count: Int { expiries.count }

    /// Records `salt` as redeemed until `expiresAt` (seconds on the caller's clock); false
    /// when it already was.
    public mutating func spend(salt: UInt64, expiresAt: Double, now: Double) -> Bool {
        dropExpired(now: now)
        guard expiries[salt] == nil else { return false }
        if expiries.count >= capacity { dropOldest() }
        expiries[salt] = expiresAt
        order.append((salt, expiresAt))
        return true
    }

    private mutating func dropExpired(now: Double) {
        while head < order.count, order[head].expiresAt <= now { dropOldest() }
    }

    private mutating func dropOldest() {
        guard head < order.count else { return }
        if expiries[order[head].salt] == order[head].expiresAt { expiries[order[head].salt] = nil }
        head += 1
        // Compact once the dead front is as long as the live rest.
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
