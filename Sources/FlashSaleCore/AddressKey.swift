/// An IP address packed into two words, in canonical form (`IPAddress.canonical`): a
/// dictionary key and a trie path that costs no heap allocation, where `[UInt8]` costs one.
///
/// The address is left-aligned: bit 0 is the most significant bit of the first byte, and an
/// IPv4 address fills the top 32 bits of `high`, so one bit numbering serves both families.
public struct AddressKey: Hashable, Sendable, CustomStringConvertible {
    let high: UInt64
    let low: UInt64
    /// False for IPv4 (including IPv4-mapped IPv6, which is folded), true for other IPv6.
    public let isIPv6: Bool

    /// - Parameter bytes: 4 bytes (IPv4) or 16 (IPv6); an IPv4-mapped IPv6 address is folded
    ///   to IPv4. Nil for any other count.
    public init?(_ bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            high = Self.word(bytes, from: 0, count: 4) << 32
            low = 0
            isIPv6 = false
        case 16 where IPAddress.isMapped(bytes):
            high = Self.word(bytes, from: 12, count: 4) << 32
            low = 0
            isIPv6 = false
        case 16:
            high = Self.word(bytes, from: 0, count: 8)
            low = Self.word(bytes, from: 8, count: 8)
            isIPv6 = true
        default:
            return nil
        }
    }

    init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }

    /// 32 or 128.
    public var bitWidth: Int { isIPv6 ? 128 : 32 }

    /// 4 or 16 bytes, as `IPAddress.parse` gives them.
    public var bytes: [UInt8] {
        let count = isIPv6 ? 16 : 4
        return (0..<count).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> UInt64(56 - (index % 8) * 8))
        }
    }

    public var description: String { IPAddress.format(bytes) }

    /// Bit `index` (0 = most significant), as 0 or 1.
    @inline(__always)
    func bit(_ index: Int) -> Int {
        let word = index < 64 ? high : low
        return Int(truncatingIfNeeded: (word >> UInt64(63 - index % 64)) & 1)
    }

    /// The first `length` bits kept, the rest cleared.
    @inline(__always)
    func masked(to length: Int) -> AddressKey {
        AddressKey(high: high & Self.mask(length), low: low & Self.mask(length - 64), isIPv6: isIPv6)
    }

    /// True when the first `length` bits of both are equal.
    @inline(__always)
    func sharesPrefix(with other: AddressKey, length: Int) -> Bool {
        (high ^ other.high) & Self.mask(length) == 0 && (low ^ other.low) & Self.mask(length - 64) == 0
    }

    /// How many leading bits the two have in common (0...128).
    @inline(__always)
    func commonPrefixLength(with other: AddressKey) -> Int {
        let highDifference = high ^ other.high
        if highDifference != 0 { return highDifference.leadingZeroBitCount }
        return 64 + (low ^ other.low).leadingZeroBitCount
    }

    /// A word whose top `bits` bits are set; `bits` outside 0...64 is clamped.
    @inline(__always)
    static func mask(_ bits: Int) -> UInt64 {
        bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits))
    }

    private static func word(_ bytes: [UInt8], from start: Int, count: Int) -> UInt64 {
        var word: UInt64 = 0
        for index in start..<(start + count) { word = word << 8 | UInt64(bytes[index]) }
        return word
    }
}
