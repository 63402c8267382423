import Foundation
import Testing

@testable import FlashSaleCore

@Suite("Admission never outruns the stock (issue 13 §1)")
struct NoShowCompensationTests {
    static let start = Fixtures.saleStart.addingTimeInterval(1)

    static func join(_ controller: inout AdmissionController, _ sale: Sale, at offset: Double) -> QueueAnswer {
        controller.answer(
            pass: nil, sale: sale, now: start.addingTimeInterval(offset), monotonicSeconds: 1_000 + offset, newVisitor: { UUID() })
    }

    @Test("one unit at 50/s: of two joins one right after the other, only the first is admitted")
    func oneUnitTwoJoins() {
        var controller = AdmissionController(admissionRatePerSecond: 50)
        let sale = Fixtures.sale(available: 1, rate: 50)
        #expect(Self.join(&controller, sale, at: 0).status == .admitted)
        #expect(Self.join(&controller, sale, at: 0.01).status == .waiting)
        #expect(controller.admitted == 1)
    }

    @Test("two units, eight shoppers: two admitted; a third only when a unit is free and unclaimed")
    func twoUnitsEightShoppers() {
        var controller = AdmissionController(admissionRatePerSecond: 50)
        var sale = Fixtures.sale(available: 2, rate: 50)
        let answers = (0..<8).map { Self.join(&controller, sale, at: Double($0) * 0.01) }
        #expect(answers.filter { $0.status == .admitted }.count == 2)
        // Both reserve: nothing is available, nobody else is admitted while they hold.
        for answer in answers where answer.status == .admitted {
            controller.reserved(admittedAt: answer.pass.admittedAt!, now: Self.start.addingTimeInterval(1), monotonicSeconds: 1_001)
        }
        sale.inventory = Inventory(available: 0, reserved: 2, sold: 0)
        let third = controller.answer(
            pass: answers[2].pass, sale: sale, now: Self.start.addingTimeInterval(2), monotonicSeconds: 1_002, newVisitor: { UUID() })
        #expect(third.status == .waiting)
        // One hold expires: the next in line is admitted.
        sale.inventory = Inventory(available: 1, reserved: 1, sold: 0)
        let again = controller.answer(
            pass: answers[2].pass, sale: sale, now: Self.start.addingTimeInterval(3), monotonicSeconds: 1_003, newVisitor: { UUID() })
        #expect(again.status == .admitted)
    }

    @Test("a sale opened years ago: a join is answered without a bucket per 100 ms since")
    func ancientOpening() {
        var controller = AdmissionController(admissionRatePerSecond: 50)
        let opened = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01
        let sale = Fixtures.sale(startsAt: opened, endsAt: Date().addingTimeInterval(3_600), rate: 50)
        let answer = controller.answer(pass: nil, sale: sale, now: Date(), monotonicSeconds: 5, newVisitor: { UUID() })
        #expect(answer.status == .admitted)
        #expect(controller.arrivalBuckets < 100)
    }

    @Test("the factor starts at 1, learns the conversion after the decision time, and stays bounded")
    func learning() {
        var noShows = NoShowCompensation(maxFactor: 3)
        #expect(noShows.factor(at: 0, lifetime: 600) == 1)
        // 100 admissions in the first 10 s; 70 of them reserve 3 s later.
        for k in 0..<100 { noShows.admitted(at: Double(k) / 10) }
        for k in 0..<70 { noShows.converted(at: Double(k) / 10 + 3, delay: 3) }
        #expect(noShows.pending == 30)
        #expect(noShows.factor(at: 12, lifetime: 600) < 1.2, "most admissions are not decided yet")
        let learnt = noShows.factor(at: 30, lifetime: 600)
        #expect(abs(learnt - 1 / ((70 + NoShowCompensation.prior) / (100 + NoShowCompensation.prior))) < 0.001)
        #expect(noShows.undecided(at: 30, lifetime: 600) == 0, "the 30 who did not reserve count as no-shows")
        #expect(noShows.allowsAnother(available: 1, at: 30, lifetime: 600))
        // Nobody ever reserves: the factor stops at its bound.
        var walkAways = NoShowCompensation(maxFactor: 3)
        for k in 0..<1_000 { walkAways.admitted(at: Double(k) / 100) }
        #expect(walkAways.factor(at: 100, lifetime: 600) == 3)
        // Expired passes leave the pending count.
        walkAways.expire(at: 700, lifetime: 600)
        #expect(walkAways.pending == 0 && walkAways.factor(at: 700, lifetime: 600) == 3)
    }

    @Test("property: when everyone reserves within the decision time, pending admissions never exceed the units available")
    func neverBeyondTheStock() {
        var rng = SplitMix64(seed: 0x5_70C)
        for _ in 0..<50 {
            var noShows = NoShowCompensation()
            var available = Int.random(in: 1...50, using: &rng)
            var clock = 0.0
            // (admitted at, reserves at), each within 0…8 s of admission.
            var pending: [(Double, Double)] = []
            while available > 0 {
                clock += Double.random(in: 0...0.5, using: &rng)
                for (admittedAt, reservesAt) in pending where reservesAt <= clock && available > 0 {
                    noShows.converted(at: clock, delay: clock - admittedAt)
                    available -= 1
                }
                pending.removeAll { $0.1 <= clock }
                if noShows.allowsAnother(available: Double(available), at: clock, lifetime: 600) {
                    noShows.admitted(at: clock)
                    pending.append((clock, clock + Double.random(in: 0...8, using: &rng)))
                }
                #expect(noShows.undecided(at: clock, lifetime: 600) <= max(available, 0))
                #expect(noShows.factor(at: clock, lifetime: 600) == 1)
            }
        }
    }
}
