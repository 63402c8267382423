import Testing
@testable import FlashSaleCore

@Suite("CIDRTable")
struct CIDRTableTests {
    func cidr(_ text: String) -> CIDR { CIDR(text)! }
    func address(_ text: String) -> [UInt8] { IPAddress.parse(text)! }

    func table(_ rules: [(String, String)]) -> CIDRTable<String> {
        CIDRTable(rules.map { (cidr($0.0), $0.1) })
    }

    @Test("an empty table matches nothing")
    func empty() {
        let table = CIDRTable<Int>()
        #expect(table.isEmpty && table.count == 0 && table.entries.isEmpty)
        #expect(table.lookup([10, 0, 0, 1]) == nil)
        #expect(table.lookup(address("::1")) == nil)
    }

    @Test("the longest matching prefix wins")
    func longestPrefix() {
        let table = table([("10.0.0.0/8", "a"), ("10.1.0.0/16", "b"), ("10.1.2.0/24", "c"), ("10.1.2.3/32", "d"), ("10.1.2.128/25", "e")])
        #expect(table.count == 5)
        #expect(table.value(matching: [10, 9, 9, 9]) == "a")
        #expect(table.value(matching: [10, 1, 9, 9]) == "b")
        #expect(table.value(matching: [10, 1, 2, 4]) == "c")
        #expect(table.value(matching: [10, 1, 2, 3]) == "d")
        #expect(table.value(matching: [10, 1, 2, 200]) == "e")
        #expect(table.value(matching: [11, 0, 0, 0]) == nil)
        #expect(table.value(matching: [9, 255, 255, 255]) == nil)
        let (network, value) = table.lookup([10, 1, 2, 130])!
        #expect(network == cidr("10.1.2.128/25") && value == "e")
        #expect(table.lookup([10, 1, 77, 1])!.0 == cidr("10.1.0.0/16"))
    }

    @Test("the order of insertion does not matter")
    func insertionOrder() {
        let rules = [("10.1.2.3/32", "d"), ("10.1.2.0/24", "c"), ("10.0.0.0/8", "a"), ("10.1.0.0/16", "b"), ("10.1.2.128/25", "e")]
        let forward = table(rules)
        let backward = table(rules.reversed())
        for probe in [[10, 9, 9, 9], [10, 1, 9, 9], [10, 1, 2, 4], [10, 1, 2, 3], [10, 1, 2, 200], [11, 0, 0, 0]] as [[UInt8]] {
            #expect(forward.value(matching: probe) == backward.value(matching: probe))
        }
        #expect(forward.entries.map(\.0) == backward.entries.map(\.0))
    }

    @Test("insert replaces an equal network's value and says what it held")
    func replace() {
        var table = CIDRTable<Int>()
        #expect(table.insert(cidr("10.0.0.0/8"), 1) == nil)
        #expect(table.insert(cidr("10.9.9.9/8"), 2) == 1, "the same network, written with host bits")
        #expect(table.insert(cidr("::ffff:10.0.0.0/104"), 3) == 2, "the same network, IPv4-mapped")
        #expect(table.count == 1)
        #expect(table.value(matching: [10, 1, 1, 1]) == 3)
    }

    @Test("/0, /32 and /128")
    func extremes() {
        let table = table([("0.0.0.0/0", "any4"), ("::/0", "any6"), ("203.0.113.7/32", "host4"), ("2001:db8::7/128", "host6")])
        #expect(table.value(matching: [1, 2, 3, 4]) == "any4")
        #expect(table.value(matching: [203, 0, 113, 7]) == "host4")
        #expect(table.value(matching: [203, 0, 113, 6]) == "any4")
        #expect(table.value(matching: address("2001:db8::7")) == "host6")
        #expect(table.value(matching: address("2001:db8::8")) == "any6")
        #expect(table.value(matching: address("::")) == "any6")
        #expect(table.lookup([0, 0, 0, 0])!.0 == cidr("0.0.0.0/0"))
    }

    @Test("IPv4 and IPv6 are separate; an IPv4-mapped address matches IPv4 networks only")
    func families() {
        let table = table([("10.0.0.0/8", "v4"), ("::/0", "any6"), ("::a00:0/104", "compatible")])
        #expect(table.value(matching: address("::ffff:10.1.2.3")) == "v4")
        #expect(table.lookup(address("::ffff:10.1.2.3"))!.0 == cidr("10.0.0.0/8"))
        #expect(table.value(matching: address("::ffff:11.1.2.3")) == nil, "mapped is IPv4: ::/0 does not cover it")
        #expect(table.value(matching: address("::10.1.2.3")) == "compatible", "IPv4-compatible stays IPv6")
        #expect(table.value(matching: [0x0A] + [UInt8](repeating: 0, count: 15)) == "any6")
    }

    @Test("malformed addresses match nothing")
    func malformed() {
        let table = table([("0.0.0.0/0", "any4"), ("::/0", "any6")])
        #expect(table.lookup([]) == nil)
        #expect(table.lookup([10, 0, 0]) == nil)
        #expect(table.value(matching: [UInt8](repeating: 0, count: 5)) == nil)
    }

    @Test("remove takes out one network and leaves those around and inside it")
    func remove() {
        var table = table([("10.0.0.0/8", "a"), ("10.1.0.0/16", "b"), ("10.1.2.0/24", "c"), ("10.2.0.0/16", "f")])
        #expect(table.remove(cidr("10.1.0.0/16")) == "b")
        #expect(table.remove(cidr("10.1.0.0/16")) == nil, "already gone")
        #expect(table.remove(cidr("10.0.0.0/14")) == nil, "a branch point holds no value")
        #expect(table.remove(cidr("11.0.0.0/8")) == nil)
        #expect(table.remove(cidr("10.1.2.0/25")) == nil, "inside a network, not one")
        #expect(table.count == 3)
        #expect(table.value(matching: [10, 1, 9, 9]) == "a")
        #expect(table.value(matching: [10, 1, 2, 9]) == "c")
        #expect(table.remove(cidr("10.0.0.0/8")) == "a")
        #expect(table.value(matching: [10, 1, 9, 9]) == nil)
        #expect(table.value(matching: [10, 1, 2, 9]) == "c")
        #expect(table.value(matching: [10, 2, 2, 9]) == "f")
        #expect(table.remove(cidr("10.1.2.0/24")) == "c")
        #expect(table.remove(cidr("10.2.0.0/16")) == "f")
        #expect(table.isEmpty && table.entries.isEmpty && table.nodeCount == 2)
    }

    @Test("entries list IPv4 first, in address order, a network before those inside it")
    func entries() {
        let table = table([
            ("2001:db8::/32", "6"), ("10.1.0.0/16", "b"), ("192.168.0.0/16", "d"), ("10.0.0.0/8", "a"), ("::/0", "any6"),
            ("0.0.0.0/0", "any4"),
        ])
        let listed = table.entries.map { "\($0.0)=\($0.1)" }
        let expected = [
            "0.0.0.0/0=any4", "10.0.0.0/8=a", "10.1.0.0/16=b", "192.168.0.0/16=d", "::/0=any6",
            "2001:db8::/32=6",
        ]
        #expect(listed == expected)
    }

    @Test("a copy is a separate table")
    func valueSemantics() {
        var original = table([("10.0.0.0/8", "a")])
        var copy = original
        copy.insert(cidr("10.1.0.0/16"), "b")
        original.remove(cidr("10.0.0.0/8"))
        #expect(original.isEmpty)
        #expect(copy.value(matching: [10, 1, 1, 1]) == "b" && copy.value(matching: [10, 2, 1, 1]) == "a")
        requireSendable(copy)
    }

    func requireSendable(_: some Sendable) {}

    @Test("100,000 networks: at most 2·count + 2 nodes, and every one found")
    func large() {
        var rng = SplitMix64(seed: 0x1A26E)
        var table = CIDRTable<Int>()
        var networks: [CIDR] = []
        for index in 0..<100_000 {
            let v6 = index % 4 == 0
            let bytes = (0..<(v6 ? 16 : 4)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let network = CIDR(address: bytes, prefixLength: v6 ? Int.random(in: 32...128, using: &rng) : Int.random(in: 8...32, using: &rng))!
            table.insert(network, index)
            networks.append(network)
        }
        #expect(table.count == Set(networks).count)
        #expect(table.nodeCount <= 2 * table.count + 2)
        #expect(MemoryLayout<CIDRTable<Int>.Node>.stride == 32, "the size the documentation gives")
        for network in networks.prefix(2000) {
            #expect(table.lookup(network.address)?.0.prefixLength ?? -1 >= network.prefixLength)
        }
    }
}
