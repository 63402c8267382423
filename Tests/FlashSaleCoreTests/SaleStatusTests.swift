import Foundation
import Testing
@testable import FlashSaleCore

@Suite("Sale.status")
struct SaleStatusTests {
    let before = Fixtures.saleStart.addingTimeInterval(-1)
    let during = Fixtures.saleStart.addingTimeInterval(60)

    @Test("scheduled before starts_at, live from starts_at, ended from ends_at")
    func timeline() {
        let sale = Fixtures.sale()
        #expect(sale.status(at: before) == .scheduled)
        #expect(sale.status(at: Fixtures.saleStart) == .live)
        #expect(sale.status(at: during) == .live)
        #expect(sale.status(at: Fixtures.saleEnd.addingTimeInterval(-0.001)) == .live)
        #expect(sale.status(at: Fixtures.saleEnd) == .ended)
        #expect(sale.status(at: Fixtures.saleEnd.addingTimeInterval(1)) == .ended)
    }

    @Test("sold_out only when nothing is available and nothing is held")
    func soldOut() {
        #expect(Fixtures.sale(available: 0, reserved: 0, sold: 10).status(at: during) == .soldOut)
        #expect(Fixtures.sale(available: 0, reserved: 3, sold: 7).status(at: during) == .live)
        #expect(Fixtures.sale(available: 1, reserved: 0, sold: 9).status(at: during) == .live)
    }

    @Test("paused wins over scheduled and sold out, ended wins over paused")
    func precedence() {
        #expect(Fixtures.sale(paused: true).status(at: before) == .paused)
        #expect(Fixtures.sale(available: 0, paused: true).status(at: during) == .paused)
        #expect(Fixtures.sale(paused: true).status(at: Fixtures.saleEnd) == .ended)
        #expect(Fixtures.sale(available: 0).status(at: Fixtures.saleEnd) == .ended)
    }

    @Test("inventory total is the sum of its parts; status raw values are the contract's")
    func inventory() {
        #expect(Inventory(available: 3, reserved: 4, sold: 5).total == 12)
        #expect(SaleStatus.soldOut.rawValue == "sold_out")
        #expect(QueueAnswer.Status.notStarted.rawValue == "not_started")
        #expect(QueueAnswer.Status.soldOut.rawValue == "sold_out")
    }
}
