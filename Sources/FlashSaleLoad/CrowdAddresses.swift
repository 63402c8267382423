/// The client address each virtual client claims in `X-Forwarded-For` when the crowd plays
/// distinct addresses (`--forwarded-addresses`) against a server that trusts the crowd's
/// own address as a proxy (`--trusted-proxy 127.0.0.1/32`). The three groups never share
/// a network: honest shoppers in 10.0.0.0/8, the office NAT in TEST-NET-1, the farm in
/// TEST-NET-3 (RFC 5737).
public struct CrowdAddresses: Sendable, Equatable {
    /// The one address of the office NAT's shoppers.
    public static let nat = "192.0.2.77"
    /// The farm's /24: its addresses are `203.0.113.1` … `203.0.113.N`.
    public static let farmNetwork = "203.0.113"
    /// Most farm addresses (hosts 1–254 of its /24).
    public static let maxFarmAddresses = 254
    /// Sent by every client in this mode, honest or not: browsers send one, and a farm
    /// copies a browser's. (Without it the shop reads automation and charges more work.)
    public static let userAgent = "Mozilla/5.0 (X11; Linux x86_64) flashsale-crowd/1"

    public let shoppers: Int
    public let natShoppers: Int
    public let farmAddresses: Int

    public init(shoppers: Int, natShoppers: Int, farmAddresses: Int) {
        precondition((0...shoppers).contains(natShoppers) && (0...Self.maxFarmAddresses).contains(farmAddresses))
        self.shoppers = shoppers
        self.natShoppers = natShoppers
        self.farmAddresses = farmAddresses
    }

    /// Whether honest shopper `index` sits behind the office NAT. The NAT's shoppers are
    /// spread evenly over the crowd, whose indices run in arrival order, so they arrive
    /// across the spike and the tail like everyone else.
    public func isNAT(_ index: Int) -> Bool {
        natShoppers > 0 && (index + 1) * natShoppers / shoppers > index * natShoppers / shoppers
    }

    /// The address honest shopper `index` claims.
    public func shopper(_ index: Int) -> String { isNAT(index) ? Self.nat : Self.honest(index) }

    /// The address farm pass `index` claims: round-robin over the farm's addresses.
    public func farm(_ index: Int) -> String { "\(Self.farmNetwork).\(1 + index % max(farmAddresses, 1))" }

    /// An address of its own in 10.0.0.0/8: the index picks a /24 through a bijection on
    /// 16 bits, so the first 65,536 shoppers are each alone in their /24 (networks
    /// scattered, as a real crowd's ISPs are) and later ones share /24s on other hosts.
    /// Distinct for the first 254 × 65,536 indices; hosts .0 and .255 are never used.
    public static func honest(_ index: Int) -> String {
        let network = scatter(UInt16(truncatingIfNeeded: index))
        let host = 1 + (index >> 16) % 254
        return "10.\(network >> 8).\(network & 0xFF).\(host)"
    }

    /// A bijection of 16-bit values (odd multipliers and xor-shifts are each invertible).
    static func scatter(_ value: UInt16) -> UInt16 {
        var x = value &* 0x9E37
        x ^= x >> 7
        x = x &* 0x2C1B
        x ^= x >> 8
        return x
    }
}
