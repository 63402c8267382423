import Foundation
import Testing

@testable import FlashSaleCore

@Suite("Admission shared by several nodes")
struct ClusterAdmissionTests {
    static let during = Fixtures.saleStart.addingTimeInterval(60)

    static func peer(_ threshold: Date?, age: Double = 0, joined: Int = 0, admitted: Int = 0, waiting: Int = 0, rate: Double = 0) -> NodeLine {
        NodeLine(
            nodeID: UUID(), saleID: UUID(), threshold: threshold, joined: joined, admitted: admitted, waiting: waiting,
            achievedRatePerSecond: rate, ageSeconds: age)
    }

    @Test("each live node takes an equal share; no count means this node alone")
    func shares() {
        #expect(ClusterAdmission.share(liveNodes: 3) == 1.0 / 3)
        #expect(ClusterAdmission.share(liveNodes: 1) == 1)
        #expect(ClusterAdmission.share(liveNodes: 0) == 1)
    }

    @Test("bounds keep a threshold within one poll interval of the others', allowing for a line's age")
    func bounds() {
        let t = Self.during
        let bounds = ClusterAdmission.bounds(peers: [Self.peer(t), Self.peer(t.addingTimeInterval(0.5), age: 0.4)])
        #expect(bounds.floor == t.addingTimeInterval(0.5 - ClusterAdmission.tolerance))
        #expect(bounds.ceiling == t.addingTimeInterval(ClusterAdmission.tolerance))
        let aged = ClusterAdmission.bounds(peers: [Self.peer(t, age: 0.5)])
        #expect(aged.ceiling == t.addingTimeInterval(ClusterAdmission.tolerance + 0.5))
        #expect(aged.floor == t.addingTimeInterval(-ClusterAdmission.tolerance))
    }

    @Test("idle peers, gone peers and no peers bound nothing; crossed bounds give way to the floor")
    func boundsEdges() {
        let t = Self.during
        #expect(ClusterAdmission.bounds(peers: []) == .none)
        #expect(ClusterAdmission.bounds(peers: [Self.peer(nil)]) == .none)
        #expect(ClusterAdmission.bounds(peers: [Self.peer(t, age: ClusterAdmission.liveWithin + 1)]) == .none)
        let crossed = ClusterAdmission.bounds(peers: [Self.peer(t), Self.peer(t.addingTimeInterval(5))])
        #expect(crossed.floor == t.addingTimeInterval(4))
        #expect(crossed.ceiling == crossed.floor, "a node never holds back shoppers another node admits")
    }

    @Test("the deployment's line sums every node's counts, and only live nodes' waiting and rate")
    func combined() {
        let own = QueueFigures(joined: 10, waiting: 5, admitted: 3, admissionRatePerSecond: 9, nodeRatePerSecond: 3, achievedRatePerSecond: 3)
        let all = ClusterAdmission.combined(
            own,
            peers: [
                Self.peer(nil, joined: 20, admitted: 6, waiting: 7, rate: 2.5),
                Self.peer(nil, age: ClusterAdmission.liveWithin + 1, joined: 30, admitted: 9, waiting: 100, rate: 3),
            ])
        #expect(all.joined == 60 && all.admitted == 18)
        #expect(all.waiting == 12 && all.achievedRatePerSecond == 5.5)
        #expect(all.nodeRatePerSecond == 3 && all.admissionRatePerSecond == 9)
    }

    /// Admissions in `seconds` of eligible shoppers asking every 10 ms.
    static func admissions(_ controller: inout AdmissionController, _ sale: Sale, from start: Double, seconds: Double) -> Int {
        var count = 0
        for step in 0..<Int(seconds * 100) {
            let pass = QueuePass(saleID: sale.id, visitorID: UUID(), firstArrival: Fixtures.saleStart.addingTimeInterval(1))
            let answer = controller.answer(
                pass: pass, sale: sale, now: during.addingTimeInterval(Double(step) / 100), monotonicSeconds: start + Double(step) / 100,
                newVisitor: { UUID() })
            if answer.admittedNow { count += 1 }
        }
        return count
    }

    @Test("a new share applies at once, with no fresh burst: a node that loses a peer admits its share")
    func shareChanges() {
        let sale = Fixtures.sale(available: 100_000, rate: 100)
        var controller = AdmissionController(admissionRatePerSecond: 100, nodeShare: 0.5)
        let half = Self.admissions(&controller, sale, from: 1_000, seconds: 10)
        #expect((500...560).contains(half), "50/s for 10 s plus one second's burst: \(half)")
        controller.follow(nodeShare: 1, bounds: .none)
        let whole = Self.admissions(&controller, sale, from: 1_010, seconds: 10)
        #expect((990...1_010).contains(whole), "100/s for 10 s, no second burst: \(whole)")
        #expect(controller.figures(now: Self.during, monotonicSeconds: 1_020).nodeRatePerSecond == 100)
    }

    @Test("a ceiling keeps later arrivals waiting; a floor lets through arrivals the others already passed")
    func thresholdBounds() {
        let sale = Fixtures.sale(available: 100_000, rate: 1)
        var controller = AdmissionController(admissionRatePerSecond: 1)
        // Fifty joins over five seconds at one admission a second: the threshold trails them.
        for i in 0..<50 {
            _ = controller.answer(
                pass: nil, sale: sale, now: Self.during.addingTimeInterval(Double(i) / 10), monotonicSeconds: 1_000 + Double(i) / 10,
                newVisitor: { UUID() })
        }
        let late = QueuePass(saleID: sale.id, visitorID: UUID(), firstArrival: Self.during.addingTimeInterval(3))
        let now = Self.during.addingTimeInterval(5)
        let before = controller.answer(pass: late, sale: sale, now: now, monotonicSeconds: 1_010, newVisitor: { UUID() })
        #expect(before.status == .waiting)
        controller.follow(nodeShare: 1, bounds: ThresholdBounds(floor: Self.during.addingTimeInterval(4)))
        let after = controller.answer(pass: late, sale: sale, now: now, monotonicSeconds: 1_012, newVisitor: { UUID() })
        #expect(after.status == .admitted, "another node is past this arrival already")

        // A node with nobody in its own line would release everyone at once; the ceiling holds it.
        var empty = AdmissionController(admissionRatePerSecond: 100)
        empty.follow(nodeShare: 1, bounds: ThresholdBounds(ceiling: Self.during.addingTimeInterval(-10)))
        let recent = QueuePass(saleID: sale.id, visitorID: UUID(), firstArrival: Self.during.addingTimeInterval(-5))
        let held = empty.answer(pass: recent, sale: Fixtures.sale(rate: 100), now: Self.during, monotonicSeconds: 1_000, newVisitor: { UUID() })
        #expect(held.status == .waiting)
        #expect(try! #require(empty.threshold) <= Self.during.addingTimeInterval(-10))
        let early = QueuePass(saleID: sale.id, visitorID: UUID(), firstArrival: Self.during.addingTimeInterval(-20))
        let admitted = empty.answer(pass: early, sale: Fixtures.sale(rate: 100), now: Self.during, monotonicSeconds: 1_000.1, newVisitor: { UUID() })
        #expect(admitted.status == .admitted)
    }

    @Test("a node tells its threshold only while it answers polls")
    func lineWhileActive() {
        let sale = Fixtures.sale(rate: 10)
        var controller = AdmissionController(admissionRatePerSecond: 10)
        let node = UUID()
        #expect(controller.line(nodeID: node, saleID: sale.id, now: Self.during, monotonicSeconds: 1_000).threshold == nil)
        _ = controller.answer(pass: nil, sale: sale, now: Self.during, monotonicSeconds: 1_000, newVisitor: { UUID() })
        _ = controller.answer(
            pass: QueuePass(saleID: sale.id, visitorID: UUID(), firstArrival: Self.during), sale: sale, now: Self.during,
            monotonicSeconds: 1_000.2, newVisitor: { UUID() })
        let active = controller.line(nodeID: node, saleID: sale.id, now: Self.during, monotonicSeconds: 1_001)
        #expect(active.threshold != nil && active.joined == 1 && active.nodeID == node && active.saleID == sale.id)
        let idle = controller.line(nodeID: node, saleID: sale.id, now: Self.during, monotonicSeconds: 1_000.2 + ClusterAdmission.activeWithin + 0.1)
        #expect(idle.threshold == nil)
    }

    @Test("a node with half the rate counted half the arrivals: it tells twice its count as the position, and the same ETA")
    func positionAcrossNodes() {
        func lastJoin(share: Double) -> QueueAnswer {
            let sale = Fixtures.sale(rate: 2)
            var controller = AdmissionController(admissionRatePerSecond: 2, nodeShare: share)
            var answer: QueueAnswer?
            for i in 0..<20 {
                answer = controller.answer(
                    pass: nil, sale: sale, now: Self.during.addingTimeInterval(Double(i) / 100), monotonicSeconds: 1_000 + Double(i) / 100,
                    newVisitor: { UUID() })
            }
            return answer!
        }
        let alone = lastJoin(share: 1)
        let half = lastJoin(share: 0.5)
        let (one, two) = (alone.position ?? 0, half.position ?? 0)
        #expect(one >= 15 && abs(two - 2 * one) <= 2, "alone \(one), one of two nodes \(two)")
        #expect(abs((half.etaSeconds ?? 0) - 2 * (alone.etaSeconds ?? 0)) <= 2, "its own count over its own half rate")
    }
}
