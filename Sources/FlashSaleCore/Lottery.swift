import Crypto
import Foundation

/// The draw that makes everyone who arrived before a sale opened equal: each early
/// shopper's first arrival is placed inside the opening second by a keyed hash of their
/// visitor id. The seed is committed to before the start (`lottery_commitment`, its
/// SHA-256) and published after it (`lottery_seed`), so any shopper can recompute their
/// own draw and check that the shop could not have chosen it afterwards.
public struct Lottery: Sendable, Equatable {
    /// 32 bytes, derived from the deployment's secret and the sale: every node draws alike.
    public let seed: [UInt8]

    public init(secret: String, saleID: UUID) {
        let key = SymmetricKey(data: SHA256.hash(data: Data("flashsale-lottery:\(secret)".utf8)))
        seed = Array(HMAC<SHA256>.authenticationCode(for: Data(saleID.bytes), using: key))
    }

    public init(seed: [UInt8]) {
        self.seed = seed
    }

    /// Lowercase hex of the seed, as published once the sale has started.
    public var seedHex: String { Hex.encode(seed) }

    /// Lowercase hex of SHA-256(seed), as published before the start.
    public var commitment: String { Hex.encode(SHA256.hash(data: Data(seed))) }

    /// Milliseconds after `starts_at` (0…999): HMAC-SHA256(key: seed, message: the 16
    /// bytes of the visitor id), first 8 bytes as a big-endian unsigned integer, mod 1000.
    public func offsetMilliseconds(visitor: UUID) -> Int {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(visitor.bytes), using: SymmetricKey(data: seed))
        let value = Array(mac).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(value % 1000)
    }

    /// The first arrival of an early shopper.
    public func draw(visitor: UUID, startsAt: Date) -> Date {
        startsAt.addingTimeInterval(Double(offsetMilliseconds(visitor: visitor)) / 1000)
    }

    /// Whether an unadmitted pass's first arrival was drawn for another opening: before the
    /// current `startsAt` (the opening was postponed), or after the opening second and
    /// still in the future (it was brought forward). Every first arrival the server issues
    /// is either inside the opening second or the instant of a join after the start.
    public static func isDrawnForAnotherOpening(firstArrival: Date, startsAt: Date, now: Date) -> Bool {
        firstArrival < startsAt || (firstArrival >= startsAt.addingTimeInterval(1) && firstArrival > now)
    }
}
