import Foundation
import Testing
@testable import FlashSaleCore

@Suite("AdmissionController.answer")
struct AdmissionControllerTests {
    static let during = Fixtures.saleStart.addingTimeInterval(60)
    static let visitor = UUID(uuidString: "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9")!

    static func ask(
        _ controller: inout AdmissionController, _ sale: Sale, pass: QueuePass? = nil, now: Date = during,
        mono: Double = 1_000
    ) -> QueueAnswer {
        controller.answer(pass: pass, sale: sale, now: now, monotonicSeconds: mono, newVisitor: { visitor })
    }

    static func waitingPass(_ sale: Sale, arrival: Date = during) -> QueuePass {
        QueuePass(saleID: sale.id, visitorID: UUID(), firstArrival: arrival)
    }

    @Test("without a pass a new one is issued, first arrival now; a quiet bucket admits it")
    func newPass() {
        let sale = Fixtures.sale(ttl: 300)
        var controller = AdmissionController(admissionRatePerSecond: 50)
        let answer = Self.ask(&controller, sale)
        #expect(answer.isNewPass)
        #expect(answer.pass.saleID == sale.id)
        #expect(answer.pass.visitorID == Self.visitor)
        #expect(answer.pass.firstArrival == Self.during)
        #expect(answer.status == .admitted)
        #expect(answer.admittedNow)
        #expect(answer.pass.admittedAt == Self.during)
        #expect(answer.admittedUntil == Self.during.addingTimeInterval(300))
        #expect(answer.available == 100)
        #expect(controller.joined == 1 && controller.admitted == 1)
        #expect(controller.threshold == Self.during)
    }

    @Test("a given pass is kept: not new, same visitor and first arrival, joined unchanged")
    func existingPass() {
        let sale = Fixtures.sale(rate: 1)
        var controller = AdmissionController(admissionRatePerSecond: 1)
        _ = Self.ask(&controller, sale)  // takes the only token of this second
        let early = Self.during.addingTimeInterval(-30)
        let mine = QueuePass(saleID: sale.id, visitorID: UUID(), firstArrival: early)
        let waiting = Self.ask(&controller, sale, pass: mine, mono: 1_000.5)
        #expect(!waiting.isNewPass)
        #expect(waiting.status == .waiting)
        #expect(waiting.pass == mine)
        #expect(!waiting.admittedNow && waiting.admittedUntil == nil)
        #expect(controller.joined == 1)
        let admitted = Self.ask(&controller, sale, pass: waiting.pass, mono: 1_001)
        #expect(admitted.status == .admitted && admitted.admittedNow && !admitted.isNewPass)
        #expect(admitted.pass.visitorID == mine.visitorID && admitted.pass.firstArrival == early)
    }

    @Test("waiting answers carry a position among the arrivals ahead, an ETA from the rate and a poll interval")
    func waitingEstimates() {
        let sale = Fixtures.sale(rate: 2)
        var controller = AdmissionController(admissionRatePerSecond: 2)
        var answers: [QueueAnswer] = []
        // Twelve shoppers 8 ms apart, within one 100 ms bucket.
        for k in 0..<12 { answers.append(Self.ask(&controller, sale, now: Self.during.addingTimeInterval(Double(k) * 0.008))) }
        // The first is admitted at once; the line is released half a second of admissions
        // at a time (`AdmissionController.leadSeconds`), so the rest wait.
        #expect(answers[0].status == .admitted)
        let admitted = answers.filter { $0.status == .admitted }.count
        #expect((1...2).contains(admitted))
        let last = answers[11]
        #expect(last.status == .waiting)
        // Positions are estimates (arrivals inside a bucket count as spread evenly), but
        // ordered, and the last of ten or eleven waiting stands about tenth.
        let positions = answers.dropFirst(admitted).compactMap(\.position)
        #expect(positions == positions.sorted())
        #expect((8...11).contains(last.position ?? 0), "\(positions)")
        #expect((4...6).contains(last.etaSeconds ?? 0))
        #expect((250...5_000).contains(last.pollAfterMs))
    }

    @Test("later arrivals stand further back and are told to wait longer")
    func positionsGrowWithArrival() {
        let sale = Fixtures.sale(rate: 1)
        var controller = AdmissionController(admissionRatePerSecond: 1)
        _ = Self.ask(&controller, sale)
        var answers: [QueueAnswer] = []
        for step in 1...40 {
            answers.append(Self.ask(&controller, sale, now: Self.during.addingTimeInterval(Double(step) * 0.2), mono: 1_000))
        }
        let positions = answers.compactMap(\.position)
        #expect(positions == positions.sorted(), "no one behind stands ahead: \(positions)")
        #expect(positions.last! > positions.first!)
        #expect(answers.last!.etaSeconds! > answers.first!.etaSeconds!)
    }

    @Test("property: admissions never exceed the node's share of the rate over a simulated timeline")
    func rateProperty() {
        var rng = SplitMix64(seed: 0xAD317)
        for round in 0..<150 {
            let rate = Int.random(in: 1...200, using: &rng)
            let share = rng.element(of: [1.0, 0.5, 1.0 / 3, 0.25])
            let perSecond = max(Double(rate) * share, 0.001)
            let burst = Double(max(1, Int(perSecond.rounded(.down))))
            let sale = Fixtures.sale(available: 1_000_000, rate: rate)
            var controller = AdmissionController(admissionRatePerSecond: rate, nodeShare: share)
            let window = Double.random(in: 1...20, using: &rng)
            let start = Double.random(in: 0...1e6, using: &rng)
            let polls = (0..<Int.random(in: 1...1_500, using: &rng)).map { _ in start + Double.random(in: 0...window, using: &rng) }.sorted()
            var waiting: [QueuePass] = []
            var admittedAt: [Double] = []
            for mono in polls {
                let pass: QueuePass? = !waiting.isEmpty && rng.bool(0.6) ? waiting.removeFirst() : nil
                let answer = Self.ask(&controller, sale, pass: pass, mono: mono)
                if answer.admittedNow {
                    admittedAt.append(mono)
                    #expect(answer.status == .admitted)
                } else {
                    #expect(answer.status == .waiting)
                    waiting.append(answer.pass)
                }
            }
            #expect(controller.admitted == admittedAt.count)
            #expect(Double(admittedAt.count) <= perSecond * window + burst + 1e-9, "round \(round)")
            for i in admittedAt.indices {
                for j in i..<admittedAt.count where Double(j - i + 1) > perSecond * (admittedAt[j] - admittedAt[i]) + burst + 1e-6 {
                    Issue.record("round \(round): \(j - i + 1) admitted in \(admittedAt[j] - admittedAt[i]) s at \(perSecond)/s")
                }
            }
        }
    }

    @Test("with a crowd polling continuously, admissions keep up with the rate")
    func rateIsUsed() {
        let sale = Fixtures.sale(available: 1_000_000, rate: 40)
        var controller = AdmissionController(admissionRatePerSecond: 40, nodeShare: 0.5)
        var mono = 0.0
        while mono <= 10 {
            _ = Self.ask(&controller, sale, mono: 500 + mono)
            mono += 0.005
        }
        #expect(controller.admitted >= 20 * 10 + 20 - 2)
        #expect(controller.admitted <= 20 * 10 + 20)
    }

    @Test("not_started before starts_at, polling again when it starts (within 250...5000 ms)", arguments: [
        (0.01, 250), (0.25, 250), (1.0, 1_000), (4.5, 4_500), (3_600.0, 5_000),
    ])
    func notStarted(secondsBefore: Double, pollAfter: Int) {
        let sale = Fixtures.sale()
        var controller = AdmissionController(admissionRatePerSecond: 50)
        let answer = Self.ask(&controller, sale, now: Fixtures.saleStart.addingTimeInterval(-secondsBefore))
        #expect(answer.status == .notStarted)
        #expect(answer.pollAfterMs == pollAfter)
        #expect(!answer.pass.isAdmitted && !answer.admittedNow)
        #expect(controller.admitted == 0)
    }

    @Test("ended at and after ends_at, for waiting and admitted passes alike")
    func ended() {
        let sale = Fixtures.sale()
        var controller = AdmissionController(admissionRatePerSecond: 50)
        var admitted = Self.waitingPass(sale)
        admitted.admittedAt = Self.during
        for now in [Fixtures.saleEnd, Fixtures.saleEnd.addingTimeInterval(10)] {
            for pass in [nil, Self.waitingPass(sale), admitted] {
                let answer = Self.ask(&controller, sale, pass: pass, now: now)
                #expect(answer.status == .ended)
                #expect(answer.pollAfterMs == 5_000)
            }
        }
        #expect(controller.admitted == 0)
    }

    @Test("sold_out when nothing is available or held")
    func soldOut() {
        let sale = Fixtures.sale(available: 0, reserved: 0, sold: 100)
        var controller = AdmissionController(admissionRatePerSecond: 50)
        for pass in [nil, Self.waitingPass(sale)] {
            let answer = Self.ask(&controller, sale, pass: pass)
            #expect(answer.status == .soldOut)
            #expect(answer.pollAfterMs == 5_000 && answer.available == 0 && !answer.pass.isAdmitted)
        }
        #expect(controller.admitted == 0)
    }

    @Test("waiting, not sold_out, while nothing is available but units are held; nobody is admitted")
    func heldUnitsKeepShoppersWaiting() {
        let sale = Fixtures.sale(available: 0, reserved: 5, sold: 95)
        var controller = AdmissionController(admissionRatePerSecond: 50)
        var pass: QueuePass?
        for step in 0..<200 {
            let answer = Self.ask(&controller, sale, pass: pass, mono: 1_000 + Double(step) * 0.25)
            #expect(answer.status == .waiting)
            #expect(answer.available == 0 && !answer.pass.isAdmitted)
            #expect((answer.position ?? 0) >= 1 && answer.etaSeconds != nil)
            pass = answer.pass
        }
        #expect(controller.admitted == 0)
        // Units come back: the next poll is admitted at once.
        let back = Self.ask(&controller, Fixtures.sale(available: 1, reserved: 4, sold: 95), pass: pass, mono: 1_100)
        #expect(back.status == .admitted && back.admittedNow)
    }

    @Test("paused: waiting passes wait, admitted passes stay admitted, nobody new is admitted")
    func paused() {
        let sale = Fixtures.sale(paused: true)
        var controller = AdmissionController(admissionRatePerSecond: 50)
        let answer = Self.ask(&controller, sale)
        #expect(answer.status == .waiting && answer.pollAfterMs == 2_000 && !answer.pass.isAdmitted)
        var admitted = Self.waitingPass(sale)
        admitted.admittedAt = Self.during
        let stillAdmitted = Self.ask(&controller, sale, pass: admitted)
        #expect(stillAdmitted.status == .admitted)
        #expect(controller.admitted == 0)
    }

    @Test("an admitted pass stays admitted, costs no admission, and keeps its admission time")
    func admittedStaysAdmitted() throws {
        let sale = Fixtures.sale(rate: 1)
        var controller = AdmissionController(admissionRatePerSecond: 1)
        let first = Self.ask(&controller, sale)
        #expect(first.status == .admitted)
        let admittedAt = try #require(first.pass.admittedAt)
        for step in 1...50 {
            let later = Self.during.addingTimeInterval(Double(step))
            let answer = Self.ask(&controller, sale, pass: first.pass, now: later, mono: 1_000 + Double(step) * 0.01)
            #expect(answer.status == .admitted)
            #expect(!answer.admittedNow && !answer.isNewPass)
            #expect(answer.pass == first.pass)
            #expect(answer.admittedUntil == admittedAt.addingTimeInterval(600))
            #expect(answer.pollAfterMs == 5_000)
        }
        // Once nothing is available or held, every poll says sold out, admitted or not
        // (a pass that still holds units keeps the sale live, not sold out).
        let inSoldOut = Self.ask(&controller, Fixtures.sale(available: 0, sold: 100), pass: first.pass)
        #expect(inSoldOut.status == .soldOut)
        #expect(controller.admitted == 1)
        // The bucket's token for the next second is still there.
        let next = Self.ask(&controller, sale, mono: 1_001)
        #expect(next.status == .admitted)
    }

    @Test("the threshold moves through arrivals at the rate and never past now")
    func threshold() {
        let sale = Fixtures.sale(rate: 10)
        var controller = AdmissionController(admissionRatePerSecond: 10)
        #expect(controller.threshold == nil)
        // 100 shoppers join over one second; the first second's credit lets 10 pass.
        for step in 0..<100 {
            _ = Self.ask(&controller, sale, now: Self.during.addingTimeInterval(Double(step) * 0.01), mono: 1_000)
        }
        let first = controller.threshold!
        #expect(first < Self.during.addingTimeInterval(0.2))
        // A second later (nobody polled below the threshold), it has moved on, not past now.
        let later = Self.during.addingTimeInterval(2)
        _ = Self.ask(&controller, sale, pass: Self.waitingPass(sale, arrival: Self.during.addingTimeInterval(0.99)), now: later, mono: 1_002)
        #expect(controller.threshold! > first)
        #expect(controller.threshold! <= later)
    }

    @Test("property: poll_after_ms stays within 250...5000 and available mirrors the sale")
    func pollAfterBounds() {
        var rng = SplitMix64(seed: 0x9011)
        for _ in 0..<100 {
            let rate = rng.element(of: [1, 2, 7, 50, 1_000, 1_000_000])
            var controller = AdmissionController(admissionRatePerSecond: rate, nodeShare: rng.element(of: [1, 0.5, 0.001]))
            var mono = 0.0
            var pass: QueuePass?
            for _ in 0..<30 {
                let available = rng.bool(0.3) ? 0 : Int.random(in: 1...50, using: &rng)
                let sale = Fixtures.sale(available: available, reserved: rng.bool() ? 0 : 3, rate: rate, paused: rng.bool(0.15))
                let now = Fixtures.saleStart.addingTimeInterval(Double.random(in: -100_000...4_000, using: &rng))
                mono += Double.random(in: 0...0.5, using: &rng)
                let answer = Self.ask(&controller, sale, pass: rng.bool(0.7) ? pass : nil, now: now, mono: mono)
                #expect((250...5_000).contains(answer.pollAfterMs), "\(answer)")
                #expect(answer.available == available)
                if let eta = answer.etaSeconds { #expect(eta >= 0) }
                pass = answer.pass
            }
        }
    }
}

@Suite("AdmissionController while units are held")
struct AdmissionHeldStockTests {
    @Test("the threshold stands still while no unit is available, so the line keeps its order")
    func thresholdHoldsWhileStockIsHeld() {
        var controller = AdmissionController(admissionRatePerSecond: 2)
        let live = Fixtures.sale(available: 10, rate: 2)
        let start = Fixtures.saleStart.addingTimeInterval(60)
        for k in 0..<20 {
            _ = controller.answer(
                pass: nil, sale: live, now: start.addingTimeInterval(Double(k) * 0.05), monotonicSeconds: 1_000,
                newVisitor: { UUID() })
        }
        let before = controller.threshold!
        // Every unit is held for a minute: polls come, time passes, nobody is admitted.
        let held = Fixtures.sale(available: 0, reserved: 10, rate: 2)
        for second in 1...60 {
            let answer = controller.answer(
                pass: QueuePass(saleID: held.id, visitorID: UUID(), firstArrival: start.addingTimeInterval(0.9)),
                sale: held, now: start.addingTimeInterval(Double(second)), monotonicSeconds: 1_000 + Double(second),
                newVisitor: { UUID() })
            #expect(answer.status == .waiting)
        }
        #expect(controller.threshold == before)
    }
}
