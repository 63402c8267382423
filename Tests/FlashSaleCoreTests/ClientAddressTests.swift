import Testing
@testable import FlashSaleCore

@Suite("IPAddress and CIDR")
struct ClientAddressTests {
    @Test("IPv4 addresses parse to four bytes", arguments: [
        ("10.0.0.1", [10, 0, 0, 1] as [UInt8]),
        ("0.0.0.0", [0, 0, 0, 0]),
        ("255.255.255.255", [255, 255, 255, 255]),
        (" 192.168.1.20 ", [192, 168, 1, 20]),
        ("203.0.113.7", [203, 0, 113, 7]),
    ])
    func ipv4(text: String, bytes: [UInt8]) {
        #expect(IPAddress.parse(text) == bytes)
    }

    @Test("IPv6 addresses parse to sixteen bytes", arguments: [
        ("::", [UInt8](repeating: 0, count: 16)),
        ("::1", [UInt8](repeating: 0, count: 15) + [1]),
        ("[::1]", [UInt8](repeating: 0, count: 15) + [1]),
        ("fe80::1%eth0", [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [1]),
        ("2001:db8::", [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 12)),
        ("2001:DB8:0:0:0:0:0:FF", [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0xFF]),
        ("1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]),
        ("1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]),
        ("::ffff:10.1.2.3", [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 1, 2, 3]),
        ("64:ff9b::192.0.2.33", [0, 0x64, 0xFF, 0x9B] + [UInt8](repeating: 0, count: 8) + [192, 0, 2, 33]),
    ])
    func ipv6(text: String, bytes: [UInt8]) {
        #expect(IPAddress.parse(text) == bytes)
    }

    @Test("non-addresses give nil", arguments: [
        "", " ", "localhost", "10.0.0", "10.0.0.1.2", "10.0.0.256", "10.0.0.-1", "10..0.1", "10.0.0.1/8",
        "1.2.3.4:80", "a.b.c.d", "1.2.3.٤", "1.2.3.0004", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::8", "12345::", "g::1", "::1.2.3", "::1.2.3.4:5", "[::1]:443", "unknown",
    ])
    func invalid(text: String) {
        #expect(IPAddress.parse(text) == nil)
    }

    @Test("format is dotted quad for IPv4 and hex groups for IPv6")
    func format() {
        #expect(IPAddress.format([203, 0, 113, 7]) == "203.0.113.7")
        #expect(IPAddress.format(IPAddress.parse("2001:db8::ff")!) == "2001:db8::ff")
    }

    @Test("canonical folds IPv4-mapped IPv6 to IPv4 and leaves everything else alone", arguments: [
        ("::ffff:10.1.2.3", "10.1.2.3"), ("::ffff:0.0.0.0", "0.0.0.0"), ("10.1.2.3", "10.1.2.3"),
        ("::10.1.2.3", "::a01:203"), ("::fffe:10.1.2.3", "::fffe:a01:203"),
        ("1::ffff:10.1.2.3", "1::ffff:a01:203"), ("2001:db8::1", "2001:db8::1"),
    ])
    func canonical(text: String, expected: String) throws {
        let folded = IPAddress.canonical(try #require(IPAddress.parse(text)))
        #expect(IPAddress.format(folded) == expected)
        #expect(IPAddress.canonical(folded) == folded, "idempotent")
        #expect(IPAddress.canonical([1, 2, 3]) == [1, 2, 3], "malformed bytes pass through")
    }

    @Test("CIDRs from bytes and a length")
    func cidrFromBytes() {
        #expect(CIDR(address: [10, 1, 2, 3], prefixLength: 8)?.description == "10.0.0.0/8")
        #expect(CIDR(address: IPAddress.parse("::ffff:10.1.2.3")!, prefixLength: 120)?.description == "10.1.2.0/24")
        #expect(CIDR(address: IPAddress.parse("::ffff:10.1.2.3")!, prefixLength: 95)?.description == "::fffe:0:0/95")
        #expect(CIDR(address: [10, 1, 2, 3], prefixLength: 33) == nil)
        #expect(CIDR(address: [10, 1, 2, 3], prefixLength: -1) == nil)
        #expect(CIDR(address: [10, 1, 2], prefixLength: 8) == nil)
        #expect(CIDR(address: [UInt8](repeating: 0xFF, count: 16), prefixLength: 128)?.prefixLength == 128)
    }

    @Test("CIDRs parse and keep only the network bits", arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"), ("10.1.2.3/8", "10.0.0.0/8"), ("192.168.1.77/30", "192.168.1.76/30"),
        ("0.0.0.0/0", "0.0.0.0/0"), ("1.2.3.4", "1.2.3.4/32"), ("1.2.3.4/32", "1.2.3.4/32"),
        ("::1", "::1/128"), ("2001:db8:abcd::1/32", "2001:db8::/32"), ("::/0", "::/0"),
        ("10.255.255.255/9", "10.128.0.0/9"),
    ])
    func cidr(text: String, description: String) throws {
        let cidr = try #require(CIDR(text))
        #expect(cidr.description == description)
        #expect(cidr == CIDR(description))
    }

    @Test("invalid CIDRs give nil", arguments: [
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/x", "10.0.0/8",
        "::/129", "::1/", "foo/8", "10.0.0.0/ 8", "10.0.0.0/8.0",
        // Operator input is strict (found by schemathesis): no zone id, no brackets, no
        // leading zeros, which some tools read as octal.
        "198.51.100.0%evil/24", "[2001:db8::]/32", "fe80::1%eth0/64", "010.1.1.0/24", "10.0.0.0/08",
    ])
    func invalidCIDR(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test("prefix matching")
    func contains() throws {
        let net = try #require(CIDR("10.0.0.0/8"))
        #expect(net.contains([10, 0, 0, 1]))
        #expect(net.contains([10, 255, 255, 255]))
        #expect(!net.contains([11, 0, 0, 0]))
        #expect(!net.contains([9, 255, 255, 255]))
        let odd = try #require(CIDR("192.168.1.64/27"))
        #expect(odd.contains([192, 168, 1, 64]) && odd.contains([192, 168, 1, 95]))
        #expect(!odd.contains([192, 168, 1, 96]) && !odd.contains([192, 168, 1, 63]))
        let host = try #require(CIDR("203.0.113.7/32"))
        #expect(host.contains([203, 0, 113, 7]) && !host.contains([203, 0, 113, 8]))
        let all = try #require(CIDR("0.0.0.0/0"))
        #expect(all.contains([1, 2, 3, 4]) && all.contains([255, 255, 255, 255]))
        let v6 = try #require(CIDR("2001:db8::/32"))
        #expect(v6.contains(IPAddress.parse("2001:db8:ffff::1")!))
        #expect(!v6.contains(IPAddress.parse("2001:db9::1")!))
        #expect(!v6.contains([32, 1, 13, 184]), "an IPv4 address is not in an IPv6 network")
        #expect(!net.contains(IPAddress.parse("::1")!), "an IPv6 address is not in an IPv4 network")
        #expect(!net.contains([10, 0, 0]), "malformed bytes never match")
    }

    @Test("property: an address is in a CIDR exactly when its first prefix bits match")
    func containsProperty() throws {
        var rng = SplitMix64(seed: 0xC1D2)
        func bit(_ bytes: [UInt8], _ i: Int) -> Bool { bytes[i / 8] & (0x80 >> UInt8(i % 8)) != 0 }
        for _ in 0..<400 {
            let v6 = rng.bool()
            let count = v6 ? 16 : 4
            let network = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let length = Int.random(in: 0...(count * 8), using: &rng)
            var candidate = network
            if rng.bool(0.7) {
                let flip = Int.random(in: 0..<(count * 8), using: &rng)
                candidate[flip / 8] ^= 0x80 >> UInt8(flip % 8)
            }
            let cidr = try #require(CIDR("\(IPAddress.format(network))/\(length)"))
            let expected = (0..<length).allSatisfy { bit(network, $0) == bit(candidate, $0) }
            #expect(cidr.contains(candidate) == expected, "\(cidr) ∋ \(IPAddress.format(candidate))")
            #expect(cidr.contains(network))
        }
    }

    @Test("an IPv4-mapped IPv6 address is matched as IPv4")
    func mappedCandidate() throws {
        let net = try #require(CIDR("10.0.0.0/8"))
        #expect(net.contains(try #require(IPAddress.parse("::ffff:10.9.8.7"))))
        #expect(!net.contains(try #require(IPAddress.parse("::ffff:11.9.8.7"))))
        #expect(!net.contains(try #require(IPAddress.parse("::10.9.8.7"))), "IPv4-compatible is not IPv4-mapped")
        #expect(!net.contains(try #require(IPAddress.parse("::fffe:10.9.8.7"))))
    }

    /// `IPAddress.unmapped` documents "and the reverse": an IPv4 address compared against an
    /// IPv4-mapped IPv6 network such as ::ffff:10.0.0.0/104.
    @Test("an IPv4 address is matched against an IPv4-mapped IPv6 network")
    func mappedNetwork() throws {
        let net = try #require(CIDR("::ffff:10.0.0.0/104"))
        #expect(net.contains(try #require(IPAddress.parse("::ffff:10.1.2.3"))))
        #expect(net.contains([10, 1, 2, 3]))
        #expect(!net.contains([11, 1, 2, 3]))
    }

    @Test("AddressKey packs canonical addresses into two words")
    func addressKey() throws {
        for text in ["10.1.2.3", "0.0.0.0", "255.255.255.255", "2001:db8::ff", "::", "::10.1.2.3", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"] {
            let bytes = try #require(IPAddress.parse(text))
            let key = try #require(AddressKey(bytes))
            #expect(key.bytes == bytes && key.bitWidth == bytes.count * 8, "\(text)")
        }
        let mapped = try #require(AddressKey(IPAddress.parse("::ffff:10.1.2.3")!))
        #expect(mapped == AddressKey([10, 1, 2, 3]) && !mapped.isIPv6 && mapped.description == "10.1.2.3")
        #expect(AddressKey([10, 0, 0, 0]) != AddressKey([10] + [UInt8](repeating: 0, count: 15)), "families differ")
        #expect(AddressKey([10, 0, 0]) == nil && AddressKey([]) == nil)
        let a = try #require(AddressKey(IPAddress.parse("2001:db8::1")!))
        let b = try #require(AddressKey(IPAddress.parse("2001:db8::3")!))
        #expect(a.commonPrefixLength(with: b) == 126 && a.sharesPrefix(with: b, length: 126) && !a.sharesPrefix(with: b, length: 127))
        #expect((0..<128).map { a.bit($0) }.filter { $0 == 1 }.count == 10, "2001:db8::1 has ten bits set")
        #expect(a.masked(to: 32) == AddressKey(IPAddress.parse("2001:db8::")!))
    }
}
