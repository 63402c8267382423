import FlashSaleCore
import Testing

@testable import FlashSaleLoad

struct ArrivalCurveTests {
    @Test(arguments: [1, 7, 1_000, 20_000])
    func everyShopperArrivesOnceWithinTheCurveInOrder(count: Int) {
        var generator = SplitMix64(seed: UInt64(count))
        let curve = ArrivalCurve(spikeShare: 0.7, spikeSeconds: 2, tailSeconds: 20, earlySeconds: 1)
        let offsets = curve.offsets(count: count, using: &generator)
        #expect(offsets.count == count)
        #expect(offsets == offsets.sorted())
        #expect(offsets.allSatisfy { $0 >= -1 && $0 < 22 })
    }

    @Test func theSpikeHoldsItsShareAndTheTailThinsOut() {
        var generator = SplitMix64(seed: 7)
        let offsets = ArrivalCurve(spikeShare: 0.6, spikeSeconds: 2, tailSeconds: 30).offsets(count: 10_000, using: &generator)
        let inSpike = offsets.filter { $0 < 2 }.count
        #expect(inSpike == 6_000)
        // Exponential tail with mean 10 s: the first third holds most of it, the last third little.
        let early = offsets.filter { $0 >= 2 && $0 < 12 }.count
        let late = offsets.filter { $0 >= 22 }.count
        #expect(early > 2_000 && late < 400, "early \(early), late \(late)")
    }

    @Test func degenerateCurvesStillPlaceEveryone() {
        var generator = SplitMix64(seed: 3)
        #expect(ArrivalCurve(spikeShare: 1, spikeSeconds: 0, tailSeconds: 0).offsets(count: 5, using: &generator) == [0, 0, 0, 0, 0])
        #expect(ArrivalCurve(spikeShare: 0, spikeSeconds: 3, tailSeconds: 0).offsets(count: 3, using: &generator) == [3, 3, 3])
        let clamped = ArrivalCurve(spikeShare: 5, spikeSeconds: -1, tailSeconds: -2)
        #expect(clamped.spikeShare == 1 && clamped.spikeSeconds == 0 && clamped.tailSeconds == 0)
    }

    @Test func theSameSeedReplaysTheSameCrowd() {
        var a = SplitMix64(seed: 99)
        var b = SplitMix64(seed: 99)
        let curve = ArrivalCurve()
        #expect(curve.offsets(count: 500, using: &a) == curve.offsets(count: 500, using: &b))
    }
}
