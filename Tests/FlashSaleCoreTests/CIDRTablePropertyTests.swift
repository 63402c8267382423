import Testing
@testable import FlashSaleCore

@Suite("CIDRTable: properties against a brute-force scan")
struct CIDRTablePropertyTests {
    /// Networks and addresses near a few seeds, so that networks nest, share prefixes and
    /// diverge at every depth, with /0, host routes and IPv4-mapped probes drawn often.
    struct Draws {
        var rng: SplitMix64
        let seeds4: [[UInt8]]
        let seeds6: [[UInt8]]

        init(seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            seeds4 = (0..<6).map { _ in (0..<4).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            seeds6 = (0..<6).map { _ in (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            self.rng = rng
        }

        /// A seed with a few bits flipped, mostly low ones.
        mutating func address(v6: Bool) -> [UInt8] {
            var bytes = rng.element(of: v6 ? seeds6 : seeds4)
            let bits = bytes.count * 8
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let flip = rng.bool(0.7) ? Int.random(in: (bits / 2)..<bits, using: &rng) : Int.random(in: 0..<bits, using: &rng)
                bytes[flip / 8] ^= 0x80 >> UInt8(flip % 8)
            }
            return bytes
        }

        mutating func network() -> CIDR {
            let v6 = rng.bool()
            let bits = v6 ? 128 : 32
            let length: Int
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: length = 0
            case 1: length = bits
            default: length = Int.random(in: 0...bits, using: &rng)
            }
            return CIDR(address: address(v6: v6), prefixLength: length)!
        }

        mutating func probe() -> [UInt8] {
            let v6 = rng.bool()
            let bytes = address(v6: v6)
            // Sometimes the IPv4 address as a dual-stack socket reports it.
            return !v6 && rng.bool(0.25) ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + bytes : bytes
        }
    }

    static func bruteForce(_ reference: [CIDR: Int], _ address: [UInt8]) -> (CIDR, Int)? {
        let canonical = IPAddress.canonical(address)
        return reference.filter { $0.key.contains(canonical) }.max { $0.key.prefixLength < $1.key.prefixLength }.map { ($0.key, $0.value) }
    }

    @Test(
        "property: lookups, removals and entries agree with a scan of a dictionary",
        arguments: [0x5EED_0001, 0x5EED_0002, 0x5EED_0003, 0x5EED_0004] as [UInt64])
    func matchesBruteForce(seed: UInt64) {
        var draws = Draws(seed: seed)
        var table = CIDRTable<Int>()
        var reference: [CIDR: Int] = [:]
        for round in 0..<60 {
            for step in 0..<Int.random(in: 1...30, using: &draws.rng) {
                let value = round * 100 + step
                if !reference.isEmpty && draws.rng.bool(0.35) {
                    // Mostly a network that is there, sometimes one that may not be.
                    let network = draws.rng.bool(0.8) ? draws.rng.element(of: reference.keys) : draws.network()
                    #expect(table.remove(network) == reference.removeValue(forKey: network), "remove \(network)")
                } else {
                    let network = draws.network()
                    #expect(table.insert(network, value) == reference.updateValue(value, forKey: network), "insert \(network)")
                }
            }
            #expect(table.count == reference.count)
            #expect(table.nodeCount <= 2 * table.count + 2)
            let listed = table.entries
            #expect(listed.count == reference.count)
            #expect(Dictionary(listed, uniquingKeysWith: { first, _ in first }) == reference)
            for _ in 0..<50 {
                let probe = draws.probe()
                let expected = Self.bruteForce(reference, probe)
                let found = table.lookup(probe)
                #expect(found?.0 == expected?.0 && found?.1 == expected?.1, "lookup \(IPAddress.format(probe))")
                #expect(table.value(matching: probe) == expected?.1)
            }
            // Every network's own address finds it or a longer network.
            for network in reference.keys {
                #expect((table.lookup(network.address)?.0.prefixLength ?? -1) >= network.prefixLength)
            }
        }
        // Emptied, the table is back to its two roots.
        for network in reference.keys { #expect(table.remove(network) != nil) }
        #expect(table.isEmpty && table.nodeCount == 2)
    }
}
