import Testing
@testable import FlashSaleCore

@Suite("ConnectionCounter")
struct ConnectionCounterTests {
    let a: [UInt8] = [198, 51, 100, 1]
    let b: [UInt8] = [198, 51, 100, 2]
    let c = IPAddress.parse("2001:db8::3")!

    @Test("per-client and total caps refuse without counting")
    func caps() {
        let counter = ConnectionCounter(perClientLimit: 2, totalLimit: 3)
        #expect(counter.open(a) == nil)
        #expect(counter.open(a) == nil)
        #expect(counter.open(a) == .perClient)
        #expect(counter.open(b) == nil)
        #expect(counter.open(c) == .total)
        #expect(counter.open(a) == .perClient, "the per-client cap is checked first")
        #expect(counter.count(for: a) == 2 && counter.count(for: b) == 1 && counter.count(for: c) == 0)
        #expect(counter.total == 3)
        counter.close(a)
        #expect(counter.open(c) == nil)
        #expect(counter.total == 3 && counter.clients == 3)
    }

    @Test("an IPv4-mapped address is the same client as its IPv4 address")
    func mapped() {
        let counter = ConnectionCounter(perClientLimit: 2, totalLimit: 10)
        let mappedA = IPAddress.parse("::ffff:198.51.100.1")!
        #expect(counter.open(a) == nil)
        #expect(counter.open(mappedA) == nil)
        #expect(counter.open(a) == .perClient)
        #expect(counter.count(for: mappedA) == 2 && counter.clients == 1)
        counter.close(mappedA)
        counter.close(a)
        #expect(counter.total == 0 && counter.clients == 0)
    }

    @Test("an address is forgotten when its last connection closes; stray closes are ignored")
    func forgetsAtZero() {
        let counter = ConnectionCounter(perClientLimit: 5, totalLimit: 5)
        #expect(counter.open(a) == nil)
        counter.close(b)
        #expect(counter.total == 1 && counter.clients == 1)
        counter.close(a)
        counter.close(a)
        #expect(counter.total == 0 && counter.clients == 0 && counter.count(for: a) == 0)
        for _ in 0..<5 { #expect(counter.open(b) == nil) }
        #expect(counter.open(b) == .perClient, "a stray close freed nothing")
    }

    @Test("property: random opens and closes never pass a cap, and closing all returns to zero")
    func randomSequences() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        for _ in 0..<200 {
            let perClient = Int.random(in: 1...4, using: &rng)
            let totalLimit = Int.random(in: 1...12, using: &rng)
            let counter = ConnectionCounter(perClientLimit: perClient, totalLimit: totalLimit)
            // Every third address is the one before it, IPv4-mapped: the same client.
            let addresses: [[UInt8]] = (0..<Int.random(in: 1...6, using: &rng)).map { (index: Int) -> [UInt8] in
                let v4: [UInt8] = [10, 0, 0, UInt8(index % 3 == 2 ? index - 1 : index)]
                return index % 3 == 2 ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4 : v4
            }
            var open: [[UInt8]] = []
            for _ in 0..<Int.random(in: 0...80, using: &rng) {
                if !open.isEmpty && rng.bool(0.4) {
                    let closing = open.remove(at: Int.random(in: 0..<open.count, using: &rng))
                    counter.close(closing)
                } else {
                    let address = rng.element(of: addresses)
                    let sameClient = open.filter { IPAddress.canonical($0) == IPAddress.canonical(address) }.count
                    let expected: ConnectionCounter.Refusal? =
                        sameClient >= perClient ? .perClient : open.count >= totalLimit ? .total : nil
                    let refusal = counter.open(address)
                    #expect(refusal == expected)
                    if refusal == nil { open.append(address) }
                }
                #expect(counter.total == open.count && counter.total <= totalLimit)
                for address in addresses { #expect(counter.count(for: address) <= perClient) }
            }
            for address in open { counter.close(address) }
            #expect(counter.total == 0 && counter.clients == 0)
        }
    }

    @Test("concurrent opens and closes: caps hold and everything returns to zero")
    func concurrent() async {
        let counter = ConnectionCounter(perClientLimit: 3, totalLimit: 20)
        let addresses: [[UInt8]] = (0..<10).map { [203, 0, 113, UInt8($0)] }
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var rng = SplitMix64(seed: UInt64(worker))
                    var held: [[UInt8]] = []
                    for _ in 0..<2000 {
                        if !held.isEmpty && rng.bool(0.5) {
                            counter.close(held.removeLast())
                        } else {
                            let address = rng.element(of: addresses)
                            if counter.open(address) == nil { held.append(address) }
                        }
                        #expect(counter.total <= 20)
                        #expect(counter.count(for: held.last ?? addresses[0]) <= 3)
                    }
                    for address in held { counter.close(address) }
                }
            }
        }
        #expect(counter.total == 0 && counter.clients == 0)
    }
}
