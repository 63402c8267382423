import Foundation
import Testing
@testable import FlashSaleCore

@Suite("AdmissionController.figures")
struct QueueFiguresTests {
    static let during = Fixtures.saleStart.addingTimeInterval(60)

    @Test("a crowd beyond the rate: joined, admitted, waiting, the lag and a new shopper's wait")
    func crowd() {
        let sale = Fixtures.sale(available: 1_000, ttl: 300, rate: 10)
        var controller = AdmissionController(admissionRatePerSecond: 10)
        // 200 shoppers join within one second; a burst of one second's share is admitted.
        for index in 0..<200 {
            _ = controller.answer(
                pass: nil, sale: sale, now: Self.during.addingTimeInterval(Double(index) / 200), monotonicSeconds: 1_000 + Double(index) / 200,
                newVisitor: { UUID() })
        }
        let figures = controller.figures(now: Self.during.addingTimeInterval(5), monotonicSeconds: 1_005)
        #expect(figures.joined == 200)
        #expect(figures.admitted == controller.admitted)
        #expect(figures.admitted >= 1 && figures.admitted <= 11)
        #expect(abs(figures.waiting - (200 - figures.admitted)) <= 6)
        #expect(figures.admissionRatePerSecond == 10)
        #expect(figures.nodeRatePerSecond == 10)
        // The threshold stands near the first arrivals: it trails the clock by about 5 s.
        #expect(figures.thresholdLagSeconds > 4 && figures.thresholdLagSeconds <= 5.1)
        // About 190 ahead at 10 a second.
        #expect(figures.newShopperWaitSeconds >= 17 && figures.newShopperWaitSeconds <= 21)
        // Nobody answered for five seconds: nothing was admitted lately.
        #expect(figures.achievedRatePerSecond == 0)
    }

    @Test("an empty line: no lag, no wait; a node's share of the rate")
    func empty() {
        let controller = AdmissionController(admissionRatePerSecond: 30, nodeShare: 1.0 / 3)
        let figures = controller.figures(now: Self.during, monotonicSeconds: 0)
        #expect(figures.joined == 0 && figures.waiting == 0 && figures.admitted == 0)
        #expect(figures.thresholdLagSeconds == 0 && figures.newShopperWaitSeconds == 0)
        #expect(abs(figures.nodeRatePerSecond - 10) < 1e-9)
    }
}
