import Foundation
import Testing

@testable import FlashSaleCore

/// A deterministic simulation of one node's waiting room: thousands of virtual shoppers
/// with a burst at opening and a tail, who poll as `poll_after_ms` says, some of whom
/// abandon, and who reserve and pay once admitted. Time is injected, so every run is the
/// same run.
@Suite("Waiting room simulation")
struct WaitingRoomSimulationTests {
    struct Shopper {
        var arrival: Double
        var leaves: Double
        var pass: QueuePass?
        var admittedAt: Double?
        var lastPollInterval = 0.0
    }

    struct Outcome {
        var shoppers: [Shopper]
        var admissions: [Double]
        var soldOutAt: Double?
        var lateNotSoldOut = 0
        var pollOutOfRange = 0
        var polls = 0
        var inverted = 0
        var pairs = 0
        /// Admitted shoppers who came to reserve and found nothing left.
        var soldOutAtReserve = 0
    }

    /// - Parameters:
    ///   - abandonment: share of shoppers who leave while waiting, 1–30 s after arriving.
    ///   - buyShare: share of admitted shoppers who go on to reserve (the others walk away).
    ///   - reserveDelay: seconds from admission to reservation.
    static func simulate(
        seed: UInt64, shoppers count: Int, quantity: Int, rate: Int, abandonment: Double, buyShare: Double = 0.9,
        reserveDelay: ClosedRange<Double> = 0...0, arrivalSpread: Double = 2, lateness: ClosedRange<Double> = 0...0
    ) -> Outcome {
        var rng = SplitMix64(seed: seed)
        let start = Fixtures.saleStart.timeIntervalSince1970
        var shoppers: [Shopper] = (0..<count).map { _ in
            // 60% in the first two seconds, the rest an exponential tail of mean 20 s.
            let arrival = Double.random(in: 0..<1, using: &rng) < 0.6
                ? start + Double.random(in: 0..<arrivalSpread, using: &rng)
                : start + arrivalSpread - 20 * log(1 - Double.random(in: 0..<1, using: &rng))
            let leaves = Double.random(in: 0..<1, using: &rng) < abandonment
                ? arrival + Double.random(in: 1..<30, using: &rng) : .infinity
            return Shopper(arrival: arrival, leaves: leaves)
        }
        var inventory = Inventory(available: quantity, reserved: 0, sold: 0)
        var controller = AdmissionController(admissionRatePerSecond: rate)
        var sale = Fixtures.sale(available: quantity, rate: rate)
        var events = EventQueue()
        for index in shoppers.indices { events.push(shoppers[index].arrival, index) }
        var payments: [Double] = []  // times at which a held unit is paid
        var reservations: [(time: Double, admittedAt: Double)] = []  // admitted shoppers about to reserve
        var outcome = Outcome(shoppers: [], admissions: [])
        var visitor: UInt64 = 0
        /// A unit held for an admitted shopper, if one is left; paid five seconds later.
        func reserve(at time: Double, admittedAt: Double) {
            guard inventory.available > 0 else {
                outcome.soldOutAtReserve += 1
                return
            }
            inventory.available -= 1
            inventory.reserved += 1
            payments.append(time + 5)
            payments.sort()
            controller.reserved(
                admittedAt: Date(timeIntervalSince1970: admittedAt), now: Date(timeIntervalSince1970: time),
                monotonicSeconds: time - start + 1_000)
        }

        while let (time, index) = events.pop() {
            while let paid = payments.first, paid <= time {
                payments.removeFirst()
                inventory.reserved -= 1
                inventory.sold += 1
            }
            reservations.sort { $0.time < $1.time }
            while let next = reservations.first, next.time <= time {
                reservations.removeFirst()
                reserve(at: next.time, admittedAt: next.admittedAt)
            }
            if inventory.available == 0 && inventory.reserved == 0 && outcome.soldOutAt == nil { outcome.soldOutAt = time }
            guard time < shoppers[index].leaves else { continue }
            sale.inventory = inventory
            let answer = controller.answer(
                pass: shoppers[index].pass, sale: sale, now: Date(timeIntervalSince1970: time),
                monotonicSeconds: time - start + 1_000,
                newVisitor: {
                    visitor += 1
                    return UUID(uuid: (UInt8(visitor >> 8 & 0xFF), UInt8(visitor & 0xFF), 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0))
                })
            shoppers[index].pass = answer.pass
            if !(250...5_000).contains(answer.pollAfterMs) { outcome.pollOutOfRange += 1 }
            outcome.polls += 1
            if let soldOut = outcome.soldOutAt, time > soldOut + 1, answer.status != .soldOut { outcome.lateNotSoldOut += 1 }
            switch answer.status {
            case .admitted where shoppers[index].admittedAt == nil:
                shoppers[index].admittedAt = time
                outcome.admissions.append(time)
                // Most admitted shoppers reserve (after reserveDelay) and pay five seconds later.
                if Double.random(in: 0..<1, using: &rng) < buyShare {
                    let delay = reserveDelay.lowerBound == reserveDelay.upperBound
                        ? reserveDelay.lowerBound : Double.random(in: reserveDelay, using: &rng)
                    if delay == 0 { reserve(at: time, admittedAt: time) } else { reservations.append((time + delay, time)) }
                }
            case .waiting, .notStarted:
                shoppers[index].lastPollInterval = Double(answer.pollAfterMs) / 1000
                // A real client answers late by its round trip and its own scheduling.
                let late = lateness.upperBound > 0 ? Double.random(in: lateness, using: &rng) : 0
                events.push(time + Double(answer.pollAfterMs) / 1000 + late, index)
            default:
                break
            }
        }
        // First come, first served: a pair is inverted only when the later arrival was
        // admitted more than one poll interval before the earlier one.
        let admitted = shoppers.filter { $0.admittedAt != nil }.sorted { $0.arrival < $1.arrival }
        for i in admitted.indices {
            for j in admitted.indices where j > i {
                outcome.pairs += 1
                let slack = max(admitted[i].lastPollInterval, 0.25)
                if admitted[j].admittedAt! < admitted[i].admittedAt! - slack { outcome.inverted += 1 }
            }
        }
        outcome.shoppers = shoppers
        return outcome
    }

    @Test("3,000 shoppers, 20–30% abandoning: fair order, bounded rate, sold out told", arguments: [
        (UInt64(1), 0.2), (UInt64(2), 0.3), (UInt64(3), 0.25),
    ])
    func crowd(seed: UInt64, abandonment: Double) {
        let rate = 50
        let outcome = Self.simulate(seed: seed, shoppers: 3_000, quantity: 300, rate: rate, abandonment: abandonment)
        let agreement = 1 - Double(outcome.inverted) / Double(max(outcome.pairs, 1))
        #expect(agreement >= 0.95, "order agreement \(agreement) over \(outcome.pairs) pairs")
        // Never more than 20% over the rate in any 5 s window.
        let times = outcome.admissions.sorted()
        var low = 0
        for high in times.indices {
            while times[high] - times[low] > 5 { low += 1 }
            #expect(Double(high - low + 1) <= Double(rate) * 5 * 1.2, "window ending at \(times[high])")
        }
        #expect(outcome.soldOutAt != nil, "300 units sell to 3,000 shoppers")
        #expect(outcome.pollOutOfRange == 0 && outcome.polls > 3_000)
        #expect(outcome.lateNotSoldOut == 0, "every poll more than 1 s after sell-out says so")
        // The stock cap: 10% of the admitted walk away, so the learnt factor admits a
        // little over the stock, never near the 3× bound.
        #expect(outcome.admissions.count <= Int(1.2 * 300), "\(outcome.admissions.count) admitted")
    }

    /// Issue 13 §1: when everyone admitted buys at once, admissions never run past the stock.
    @Test("400 units, 1,500 shoppers who all buy at once: at most 0.5% admitted beyond the stock")
    func nobodyAbandoning() {
        let outcome = Self.simulate(seed: 7, shoppers: 1_500, quantity: 400, rate: 50, abandonment: 0, buyShare: 1)
        #expect(outcome.soldOutAt != nil)
        #expect(Double(outcome.admissions.count) <= 400 * 1.005, "\(outcome.admissions.count) admitted for 400 units")
        #expect(outcome.lateNotSoldOut == 0)
    }

    /// Issue 13 §1: 30% of the admitted never reserve. The line must not stall behind them
    /// for a pass lifetime: the learnt factor admits others in their place.
    @Test("30% of the admitted walk away: the sale still sells out, with no stall of a pass lifetime", arguments: [UInt64(11), 12, 13])
    func admittedWalkAways(seed: UInt64) {
        let rate = 10
        let outcome = Self.simulate(
            seed: seed, shoppers: 2_000, quantity: 200, rate: rate, abandonment: 0, buyShare: 0.7, reserveDelay: 2...8)
        let soldOut = try? #require(outcome.soldOutAt)
        #expect(soldOut != nil, "200 units sell to 2,000 shoppers")
        let times = outcome.admissions.sorted()
        let longestGap = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? 0
        // The fixture's pass lifetime is 600 s; the factor learns within about its decision time.
        #expect(longestGap < 60, "longest pause between admissions \(longestGap) s")
        #expect(outcome.admissions.count <= Int(Double(200) / 0.7 * 1.2), "\(outcome.admissions.count) admitted")
    }

    /// Issue 15: at 100,000 shoppers admissions came in bursts with whole seconds of nobody
    /// let in. In small: while the stock lasts, every 5 s window admits within ±20% of the
    /// rate, though replies arrive 20–150 ms late and the burst holds far more shoppers
    /// than a second's admissions.
    @Test("8,000 shoppers at 100/s with late polls: admissions flow within ±20% in every 5 s window")
    func admissionsFlowAtTheRate() {
        let rate = 100
        let quantity = 1_500
        let outcome = Self.simulate(
            seed: 15, shoppers: 8_000, quantity: quantity, rate: rate, abandonment: 0.1, buyShare: 0.95,
            reserveDelay: 0.2...2, lateness: 0.05...0.6)
        let start = Fixtures.saleStart.timeIntervalSince1970
        var perSecond = [Int](repeating: 0, count: 1 + Int((outcome.admissions.max() ?? start) - start))
        for time in outcome.admissions { perSecond[max(0, Int(time - start))] += 1 }
        var cumulative = 0
        for second in perSecond.indices {
            cumulative += perSecond[second]
            guard second >= 5, cumulative <= quantity else { continue }
            let window = perSecond[(second - 4)...second].reduce(0, +)
            #expect(Double(window) >= Double(rate * 5) * 0.8 && Double(window) <= Double(rate * 5) * 1.2,
                "\(window) admitted in the 5 s to second \(second): \(perSecond.prefix(20))")
        }
        #expect(outcome.soldOutAtReserve <= quantity / 10, "\(outcome.soldOutAtReserve) admitted to find nothing")
    }

    @Test("a node keeps memory per time bucket, not per shopper")
    func boundedMemory() {
        var controller = AdmissionController(admissionRatePerSecond: 10)
        let sale = Fixtures.sale(available: 1_000, rate: 10)
        for n in 0..<20_000 {
            let time = Fixtures.saleStart.addingTimeInterval(Double(n) * 0.001)  // 20 s of joins
            _ = controller.answer(pass: nil, sale: sale, now: time, monotonicSeconds: Double(n) * 0.001, newVisitor: { UUID() })
        }
        #expect(controller.joined == 20_000)
        #expect(controller.arrivalBuckets <= 512, "20 s of 100 ms buckets, doubled at most once")
    }
}

/// A binary min-heap of (time, shopper) events.
struct EventQueue {
    private var heap: [(time: Double, shopper: Int)] = []

    mutating func push(_ time: Double, _ shopper: Int) {
        heap.append((time, shopper))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].time < heap[parent].time else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Double, Int)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].time < heap[smallest].time { smallest = left }
            if right < heap.count, heap[right].time < heap[smallest].time { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
