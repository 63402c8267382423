import Testing
@testable import FlashSaleCore

@Suite("ClientAddressResolver")
struct ClientAddressResolverTests {
    let resolver = ClientAddressResolver(trustedProxies: ["10.0.0.0/8", "192.168.0.0/16", "::1", "fd00::/8"].compactMap(CIDR.init))
    let proxy: [UInt8] = [10, 0, 0, 5]
    let stranger: [UInt8] = [198, 51, 100, 9]

    func resolve(_ peer: [UInt8]?, _ headers: [String]) -> String? {
        resolver.resolve(peer: peer, forwardedFor: headers).map(IPAddress.format)
    }

    @Test("an unknown peer resolves to nil")
    func unknownPeer() {
        #expect(resolve(nil, ["203.0.113.7"]) == nil)
    }

    @Test("an untrusted peer is the client, whatever X-Forwarded-For says")
    func untrustedPeer() {
        #expect(resolve(stranger, []) == "198.51.100.9")
        #expect(resolve(stranger, ["203.0.113.7"]) == "198.51.100.9")
        #expect(resolve(stranger, ["10.0.0.1, 203.0.113.7"]) == "198.51.100.9")
    }

    @Test("a trusted peer without X-Forwarded-For is the client")
    func trustedPeerNoHeader() {
        #expect(resolve(proxy, []) == "10.0.0.5")
        #expect(resolve(proxy, [""]) == "10.0.0.5")
    }

    @Test("a trusted peer: the right-most untrusted X-Forwarded-For address")
    func rightMostUntrusted() {
        #expect(resolve(proxy, ["203.0.113.7"]) == "203.0.113.7")
        #expect(resolve(proxy, ["203.0.113.7, 10.0.0.9"]) == "203.0.113.7")
        #expect(resolve(proxy, ["1.1.1.1, 203.0.113.7, 192.168.3.3, 10.0.0.9"]) == "203.0.113.7", "spoofed left entries ignored")
        #expect(resolve(proxy, ["1.1.1.1,203.0.113.7"]) == "203.0.113.7", "no spaces")
        #expect(resolve(proxy, ["  1.1.1.1 ,\t203.0.113.7  "]) == "203.0.113.7", "extra whitespace")
    }

    @Test("several X-Forwarded-For headers are one list, in order")
    func multipleHeaders() {
        #expect(resolve(proxy, ["1.1.1.1", "203.0.113.7"]) == "203.0.113.7")
        #expect(resolve(proxy, ["1.1.1.1, 203.0.113.7", "10.0.0.2", "192.168.0.1"]) == "203.0.113.7")
        #expect(resolve(proxy, ["203.0.113.7", "10.0.0.2, 10.0.0.3"]) == "203.0.113.7")
    }

    @Test("IPv6 and IPv4-mapped addresses")
    func ipv6() {
        #expect(resolve(IPAddress.parse("::1"), ["2001:db8::7"]) == "2001:db8::7")
        #expect(resolve(IPAddress.parse("::ffff:10.0.0.5"), ["203.0.113.7"]) == "203.0.113.7", "mapped trusted peer")
        #expect(resolve(proxy, ["2001:db8::7, fd00::1, [::1]"]) == "2001:db8::7")
        #expect(resolve(IPAddress.parse("2001:db8::1"), ["203.0.113.7"]) == "2001:db8::1")
    }

    @Test("an IPv4-mapped peer or hop resolves to the 4-byte IPv4 address")
    func mappedFolds() throws {
        let mappedStranger = try #require(IPAddress.parse("::ffff:198.51.100.9"))
        let mappedProxy = try #require(IPAddress.parse("::ffff:10.0.0.5"))
        #expect(resolver.resolve(peer: mappedStranger, forwardedFor: ["203.0.113.7"]) == stranger, "mapped untrusted peer")
        #expect(resolver.resolve(peer: mappedProxy, forwardedFor: []) == proxy, "mapped trusted peer, no header")
        #expect(resolver.resolve(peer: mappedProxy, forwardedFor: ["junk"]) == proxy, "mapped trusted peer, garbage header")
        #expect(resolver.resolve(peer: proxy, forwardedFor: ["::ffff:203.0.113.7"]) == [203, 0, 113, 7], "mapped hop")
        #expect(resolver.resolve(peer: proxy, forwardedFor: ["[::ffff:203.0.113.7]"]) == [203, 0, 113, 7], "bracketed mapped hop")
        #expect(resolver.resolve(peer: proxy, forwardedFor: ["203.0.113.7, ::ffff:10.0.0.9"]) == [203, 0, 113, 7], "mapped trusted hop")
        #expect(resolver.resolve(peer: proxy, forwardedFor: ["::ffff:10.0.0.9"]) == [10, 0, 0, 9], "mapped trusted hop, left-most")
        let compatible = try #require(IPAddress.parse("::203.0.113.7"))
        #expect(resolver.resolve(peer: proxy, forwardedFor: ["::203.0.113.7"]) == compatible, "IPv4-compatible is not folded")
    }

    @Test("garbage hops stop the walk: the last good address seen is the client", arguments: ["unknown", "1.2.3", "300.1.1.1", "_"])
    func garbageHop(hop: String) {
        #expect(resolve(proxy, [hop]) == "10.0.0.5")
        #expect(resolve(proxy, ["203.0.113.7, \(hop)"]) == "10.0.0.5")
        #expect(resolve(proxy, ["203.0.113.7, \(hop), 192.168.1.1"]) == "192.168.1.1")
        #expect(resolve(proxy, ["\(hop), 203.0.113.7, 10.0.0.9"]) == "203.0.113.7")
    }

    @Test("empty list elements are skipped, not garbage (RFC 9110 §5.6.1)")
    func emptyElements() {
        #expect(resolve(proxy, ["203.0.113.7,,10.0.0.9"]) == "203.0.113.7")
        #expect(resolve(proxy, ["203.0.113.7, ,10.0.0.9"]) == "203.0.113.7")
        #expect(resolve(proxy, ["203.0.113.7", "", "10.0.0.9"]) == "203.0.113.7")
        #expect(resolve(proxy, ["203.0.113.7,"]) == "203.0.113.7")
        #expect(resolve(proxy, [" , "]) == "10.0.0.5")
    }

    @Test("hops with a port, as some proxies write them")
    func hopsWithPorts() {
        #expect(resolve(proxy, ["203.0.113.7:5555"]) == "203.0.113.7")
        #expect(resolve(proxy, ["1.1.1.1, [2001:db8::7]:443"]) == "2001:db8::7")
        #expect(resolve(proxy, ["203.0.113.7:", "10.0.0.1"]) == "10.0.0.1", "an empty port is garbage: the walk stops at the last good hop")
        #expect(resolve(proxy, ["203.0.113.7:http"]) == "10.0.0.5")
        #expect(resolve(proxy, ["[2001:db8::7]:x"]) == "10.0.0.5")
    }

    @Test("every hop trusted: the left-most hop")
    func allTrusted() {
        #expect(resolve(proxy, ["10.1.1.1, 192.168.0.2, 10.0.0.3"]) == "10.1.1.1")
    }

    @Test("garbage stops the walk at the last address that parsed and is never returned")
    func garbage() {
        #expect(resolve(proxy, ["unknown"]) == "10.0.0.5")
        #expect(resolve(proxy, ["not an ip, <script>"]) == "10.0.0.5")
        #expect(resolve(proxy, ["203.0.113.7, garbage"]) == "10.0.0.5", "no hop to the left of garbage is believed")
        #expect(resolve(proxy, ["203.0.113.7, garbage, 10.0.0.9"]) == "10.0.0.9")
        #expect(resolve(proxy, ["garbage, 203.0.113.7"]) == "203.0.113.7")
        #expect(resolve(proxy, ["203.0.113.7:port"]) == "10.0.0.5")
        #expect(resolve(proxy, [",,,"]) == "10.0.0.5")
    }

    @Test("no trusted proxies: always the peer")
    func noneTrusted() {
        let plain = ClientAddressResolver(trustedProxies: [])
        #expect(plain.resolve(peer: proxy, forwardedFor: ["203.0.113.7"]) == proxy)
        #expect(!plain.isTrusted(proxy))
    }

    @Test("property: behind a chain of trusted proxies the real client is found, spoofed hops ignored")
    func chainProperty() {
        var rng = SplitMix64(seed: 0xF0F0)
        func trusted() -> [UInt8] {
            rng.bool() ? [10, UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng), 1]
                : [192, 168, UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 1...254, using: &rng)]
        }
        func untrusted() -> [UInt8] {
            [UInt8.random(in: 11...191, using: &rng), UInt8.random(in: 0...255, using: &rng),
             UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 1...254, using: &rng)]
        }
        for _ in 0..<300 {
            let client = untrusted()
            let spoofed = (0..<Int.random(in: 0...3, using: &rng)).map { _ in rng.bool() ? untrusted() : trusted() }
            let proxies = (0..<Int.random(in: 0...4, using: &rng)).map { _ in trusted() }
            let hops = (spoofed + [client] + proxies).map(IPAddress.format)
            // Split the list across a random number of headers.
            var headers: [String] = []
            var rest = hops[...]
            while !rest.isEmpty {
                let take = Int.random(in: 1...rest.count, using: &rng)
                headers.append(rest.prefix(take).joined(separator: rng.bool() ? ", " : ","))
                rest = rest.dropFirst(take)
            }
            #expect(resolver.resolve(peer: trusted(), forwardedFor: headers) == client, "\(headers)")
            let peer = untrusted()
            #expect(resolver.resolve(peer: peer, forwardedFor: headers) == peer)
        }
    }
}
