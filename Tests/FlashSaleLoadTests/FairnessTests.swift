import FlashSaleCore
import Testing

@testable import FlashSaleLoad

struct FairnessTests {
    typealias Entry = Fairness.Entry

    @Test func admissionsInArrivalOrderHaveNoInversion() {
        let entries = (0..<100).map { Entry(arrival: Double($0), admitted: Double($0) + 5) }
        let fairness = Fairness.measure(entries.shuffled(), tolerance: 1)
        #expect(fairness.pairs == 100 * 99 / 2)
        #expect(fairness.inverted == 0)
        #expect(fairness.inOrderShare == 1)
    }

    @Test func reversedAdmissionsAreAllInverted() {
        let entries = (0..<10).map { Entry(arrival: Double($0), admitted: Double(100 - 10 * $0)) }
        let fairness = Fairness.measure(entries, tolerance: 1)
        #expect(fairness.inverted == 45 && fairness.pairs == 45)
        #expect(fairness.inOrderShare == 0)
    }

    @Test func inversionsWithinOnePollIntervalAreForgiven() {
        let entries = [Entry(arrival: 0, admitted: 10), Entry(arrival: 1, admitted: 9.5), Entry(arrival: 2, admitted: 8)]
        // 9.5 vs 10 is within a second; 8 is two seconds before both.
        #expect(Fairness.measure(entries, tolerance: 1).inverted == 2)
        #expect(Fairness.measure(entries, tolerance: 2).inverted == 0)
    }

    @Test func eachShopperIsForgivenThePollIntervalItObserved() {
        // The first shopper polled every 3 s: the server may have admitted it at 7, before
        // the second (seen at 8); the third was seen admitted at 6, before that.
        let entries = [Entry(arrival: 0, admitted: 10, lag: 3), Entry(arrival: 1, admitted: 8), Entry(arrival: 2, admitted: 6)]
        let fairness = Fairness.measure(entries, tolerance: 0.25)
        #expect(fairness.pairs == 3 && fairness.inverted == 2)
    }

    @Test func shoppersArrivingTogetherAreNotOrdered() {
        let entries = [Entry(arrival: 0, admitted: 10), Entry(arrival: 0, admitted: 1), Entry(arrival: 0, admitted: nil)]
        let fairness = Fairness.measure(entries, tolerance: 1)
        #expect(fairness.pairs == 0 && fairness.inverted == 0 && fairness.inOrderShare == 1)
    }

    @Test func arrivalsWithinTheResolutionFormNoPair() {
        let entries = [Entry(arrival: 0, admitted: 10), Entry(arrival: 0.5, admitted: 1), Entry(arrival: 3, admitted: 2)]
        let strict = Fairness.measure(entries, tolerance: 1)
        #expect(strict.pairs == 3 && strict.inverted == 2)
        // Within one second of each other, the first two are not ordered; the third still
        // overtook the first.
        let coarse = Fairness.measure(entries, tolerance: 1, arrivalResolution: 1)
        #expect(coarse.pairs == 2 && coarse.inverted == 1)
        #expect(coarse.arrivalResolutionSeconds == 1)
    }

    @Test func aLaterArrivalAdmittedInPlaceOfOneWhoWaitedToTheEndIsAnInversion() {
        let entries = [Entry(arrival: 0, admitted: nil), Entry(arrival: 1, admitted: 3), Entry(arrival: 2, admitted: nil)]
        let fairness = Fairness.measure(entries, tolerance: 1)
        // (0,1) inverted; (1,2) in order; (0,2) never admitted either: not a pair.
        #expect(fairness.pairs == 2 && fairness.inverted == 1)
    }

    /// The O(n log n) count against the plain definition over every pair.
    @Test func fastCountMatchesTheDefinition() {
        var generator = SplitMix64(seed: 2026)
        for _ in 0..<200 {
            let count = Int.random(in: 0..<40, using: &generator)
            let entries = (0..<count).map { _ in
                Entry(
                    arrival: Double(Int.random(in: 0..<15, using: &generator)),
                    admitted: Double.random(in: 0..<1, using: &generator) < 0.2 ? nil : Double(Int.random(in: 0..<20, using: &generator)) / 2,
                    lag: Double(Int.random(in: 0..<4, using: &generator)) / 2)
            }
            let tolerance = Double(Int.random(in: 0..<3, using: &generator))
            let resolution = Double(Int.random(in: 0..<3, using: &generator))
            var pairs = 0
            var inverted = 0
            for i in entries {
                for j in entries where i.arrival < j.arrival - resolution && (i.admitted != nil || j.admitted != nil) {
                    pairs += 1
                    let earliest = i.admitted.map { $0 - max(i.lag, tolerance) } ?? .infinity
                    if let later = j.admitted, earliest > later { inverted += 1 }
                }
            }
            let fairness = Fairness.measure(entries, tolerance: tolerance, arrivalResolution: resolution)
            #expect(fairness.pairs == pairs && fairness.inverted == inverted)
        }
    }
}
