import Crypto
import Foundation
import Testing

@testable import FlashSaleCore

@Suite("Early-bird lottery")
struct LotteryTests {
    @Test("the seed is committed to by its SHA-256, and differs per sale and per secret")
    func commitment() {
        let sale = UUID()
        let lottery = Lottery(secret: "s", saleID: sale)
        #expect(lottery.seed.count == 32)
        #expect(lottery.commitment == SHA256.hash(data: Data(lottery.seed)).map { String(format: "%02x", $0) }.joined())
        #expect(lottery.seedHex.count == 64)
        #expect(Lottery(secret: "s", saleID: sale) == lottery, "every node draws alike")
        #expect(Lottery(secret: "s", saleID: UUID()) != lottery)
        #expect(Lottery(secret: "t", saleID: sale) != lottery)
    }

    @Test("draws fall inside the opening second, spread out, and can be recomputed from the seed")
    func draws() {
        let lottery = Lottery(secret: "s", saleID: UUID())
        let offsets = (0..<1_000).map { _ in lottery.offsetMilliseconds(visitor: UUID()) }
        #expect(offsets.allSatisfy { (0..<1_000).contains($0) })
        #expect(Set(offsets).count > 500, "spread over the second")
        // The published recipe: HMAC-SHA256(seed, visitor bytes), first 8 bytes big-endian, mod 1000.
        let visitor = UUID()
        let mac = HMAC<SHA256>.authenticationCode(for: Data(visitor.bytes), using: SymmetricKey(data: lottery.seed))
        let value = Array(mac).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(lottery.offsetMilliseconds(visitor: visitor) == Int(value % 1000))
        let start = Fixtures.saleStart
        #expect(lottery.draw(visitor: visitor, startsAt: start) == start.addingTimeInterval(Double(value % 1000) / 1000))
    }

    /// Seeded, 40 seeds: the shoppers poll as told. (With a fixed once-a-second poll and the
    /// eligible pass that polled first admitted, seeds 17, 28 and 39 broke the order; since
    /// issue 13 §2 the earliest eligible pass keeps the next token and is told when it frees.)
    @Test("early birds are admitted in the order of their draws, not of their arrival", arguments: Array(UInt64(1)...40))
    func earlyBirdsOrder(seed: UInt64) {
        // Seeded ids: the draws, and so the test, are the same on every run.
        var generator = SplitMix64(seed: seed)
        let sale = Fixtures.sale(id: generator.uuid(), rate: 5)
        let lottery = Lottery(secret: "s", saleID: sale.id)
        var controller = AdmissionController(admissionRatePerSecond: 5)
        var passes: [QueuePass] = []
        for k in 0..<40 {
            // They came over the ten minutes before the start.
            let early = Fixtures.saleStart.addingTimeInterval(-600 + Double(k) * 10)
            let answer = controller.answer(
                pass: nil, sale: sale, now: early, monotonicSeconds: Double(k), lottery: lottery, newVisitor: { generator.uuid() })
            #expect(answer.status == .notStarted)
            #expect(answer.pass.firstArrival == lottery.draw(visitor: answer.pass.visitorID, startsAt: sale.startsAt))
            passes.append(answer.pass)
        }
        // From the start everyone polls as told, the first poll at the start itself, in the
        // order they came; admissions follow the draw.
        var admitted: [QueuePass] = []
        var events = EventQueue()
        for index in passes.indices { events.push(Double(index) * 0.001, index) }
        while let (time, index) = events.pop(), time < 60 {
            let answer = controller.answer(
                pass: passes[index], sale: sale, now: Fixtures.saleStart.addingTimeInterval(time), monotonicSeconds: 100 + time,
                lottery: lottery, newVisitor: { UUID() })
            if answer.status == .admitted {
                admitted.append(passes[index])
            } else {
                events.push(time + Double(answer.pollAfterMs) / 1000, index)
            }
        }
        #expect(admitted.count == 40)
        let draws = admitted.map(\.firstArrival)
        // First come, first served to within one poll interval at the front of the line
        // (500 ms): no one is admitted before anyone drawn more than that earlier.
        for (a, b) in zip(draws, draws.dropFirst()) { #expect(b.timeIntervalSince(a) > -0.5) }
        // The first second's admissions are the five earliest draws, whoever came first, to
        // the histogram's resolution: inside a 100 ms bucket arrivals are estimated as evenly
        // spread, so the front of the line is exact to a bucket or two (250 ms).
        let sorted = draws.sorted()
        #expect(draws.prefix(5).allSatisfy { $0 <= sorted[4].addingTimeInterval(0.25) },
                "ranks \(draws.prefix(5).map { d in sorted.firstIndex(of: d)! })")
    }
}
