import Foundation
import Testing

@testable import FlashSaleCore

/// Issue 13 §2, replayed against the controller with injected time: shoppers who poll as
/// told, a sale of 100 units at 1 admission/s.
@Suite("The line neither stalls nor lets later shoppers overtake (issue 13 §2)")
struct LineStallTests {
    struct Shopper {
        var arrival: Double  // seconds after the start
        var pass: QueuePass?
        var admittedAt: Double?
    }

    /// Runs until everyone is admitted or `horizon` seconds pass; returns the shoppers.
    static func run(arrivals: [Double], rate: Int = 1, quantity: Int = 100, horizon: Double = 120) -> [Shopper] {
        let start = Fixtures.saleStart.timeIntervalSince1970
        var shoppers = arrivals.map { Shopper(arrival: $0) }
        var controller = AdmissionController(admissionRatePerSecond: rate)
        let sale = Fixtures.sale(available: quantity, rate: rate)
        var events = EventQueue()
        for index in shoppers.indices { events.push(shoppers[index].arrival, index) }
        var visitor: UInt64 = 0
        while let (time, index) = events.pop(), time < horizon {
            let answer = controller.answer(
                pass: shoppers[index].pass, sale: sale, now: Date(timeIntervalSince1970: start + time),
                monotonicSeconds: 1_000 + time,
                newVisitor: {
                    visitor += 1
                    return UUID(uuid: (0, 0, 0, 0, 0, UInt8(visitor & 0xFF), 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, UInt8(visitor * 37 & 0xFF)))
                })
            shoppers[index].pass = answer.pass
            switch answer.status {
            case .admitted:
                shoppers[index].admittedAt = time
                // They buy at once: with 100 units the stock never holds anyone back.
                controller.reserved(admittedAt: Date(timeIntervalSince1970: start + time), now: Date(timeIntervalSince1970: start + time), monotonicSeconds: 1_000 + time)
            case .waiting:
                events.push(time + Double(answer.pollAfterMs) / 1000, index)
            default:
                break
            }
        }
        return shoppers
    }

    /// Pairs where a shopper was admitted before one who arrived more than `slack` earlier.
    static func overtakings(_ shoppers: [Shopper], slack: Double = 1) -> [(early: Shopper, late: Shopper)] {
        var found: [(Shopper, Shopper)] = []
        for early in shoppers {
            for late in shoppers where late.arrival > early.arrival + slack {
                guard let lateAt = late.admittedAt else { continue }
                if early.admittedAt.map({ $0 > lateAt }) ?? true { found.append((early, late)) }
            }
        }
        return found
    }

    /// The fewest admissions in a 5 s window after the first, among windows through which
    /// some shopper waited from start to end (stock remains throughout: 100 units).
    static func slowestWindow(_ shoppers: [Shopper], rate: Int) -> Int {
        let times = shoppers.compactMap(\.admittedAt).sorted()
        guard let first = times.first, let last = times.last else { return Int.max }
        var slowest = Int.max
        var windowStart = first + 5
        while windowStart + 5 <= last {
            let end = windowStart + 5
            if shoppers.contains(where: { $0.arrival <= windowStart && ($0.admittedAt ?? .infinity) >= end }) {
                slowest = min(slowest, times.filter { $0 >= windowStart && $0 < end }.count)
            }
            windowStart += 0.5
        }
        return slowest
    }

    @Test("30 shoppers within 20 ms of the start, then five more 5 s apart: no stall, no overtaking")
    func burstThenStragglers() {
        let burst = (0..<30).map { Double($0) * 0.02 / 30 + 0.001 }
        let stragglers = (1...5).map { 1.6 + Double($0) * 5 }  // S1 at +6.6 s … S5 at +26.6 s
        let shoppers = Self.run(arrivals: burst + stragglers)
        #expect(shoppers.allSatisfy { $0.admittedAt != nil }, "everyone is admitted within the run")
        let overtaken = Self.overtakings(shoppers)
        #expect(overtaken.isEmpty, "\(overtaken.prefix(3).map { "arrived \($0.early.arrival) admitted \($0.early.admittedAt ?? -1) after one who arrived \($0.late.arrival)" })")
        let slowest = Self.slowestWindow(shoppers, rate: 1)
        #expect(slowest >= 4, "the slowest 5 s window admitted \(slowest) at 1/s (90% of 5 is 4.5)")
    }

    @Test("a burst of 10 and one shopper 0.8 s later: the eleventh comes right after the burst")
    func burstAndOneMore() {
        let shoppers = Self.run(arrivals: (0..<10).map { Double($0) * 0.001 + 0.001 } + [0.8])
        let burstDone = shoppers.prefix(10).compactMap(\.admittedAt).max() ?? .infinity
        let eleventh = shoppers[10].admittedAt ?? .infinity
        #expect(eleventh - burstDone <= 2.5, "burst served by \(burstDone) s, the next admitted at \(eleventh) s")
        #expect(Self.overtakings(shoppers).isEmpty)
    }

    @Test("seeded variations: 20–40 at the start, stragglers 2–8 s apart: rate kept, no overtaking by more than 1 s",
          arguments: Array(UInt64(1)...30))
    func variations(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let burst = (0..<Int.random(in: 20...40, using: &rng)).map { _ in Double.random(in: 0.001..<0.02, using: &rng) }
        var t = 1.0
        let stragglers = (0..<6).map { _ in
            t += Double.random(in: 2...8, using: &rng)
            return t
        }
        let shoppers = Self.run(arrivals: burst + stragglers, horizon: 200)
        #expect(shoppers.allSatisfy { $0.admittedAt != nil })
        #expect(Self.overtakings(shoppers).isEmpty, "seed \(seed)")
        #expect(Self.slowestWindow(shoppers, rate: 1) >= 4, "seed \(seed)")
    }
}
