import Foundation

/// What a join or poll answers, before it is rendered as JSON.
public struct QueueAnswer: Sendable, Equatable {
    public enum Status: String, Sendable {
        case waiting, admitted, soldOut = "sold_out", ended, notStarted = "not_started"
    }

    public var status: Status
    public var pass: QueuePass
    public var position: Int?
    public var etaSeconds: Int?
    public var pollAfterMs: Int
    public var available: Int
    public var admittedUntil: Date?
    /// This answer issued a new pass (a join).
    public var isNewPass = false
    /// This answer admitted the pass.
    public var admittedNow = false
}

/// One node's admission state for one sale: a leaky bucket at this node's share of the
/// sale's admission rate, and counters. Waiting shoppers cost it nothing; their place is
/// in their pass. Mutated under the caller's lock.
public struct AdmissionController: Sendable {
    public private(set) var joined = 0
    public private(set) var admitted = 0
    /// The latest first arrival admitted so far: everyone who came earlier and still polls
    /// has been let in.
    public private(set) var threshold: Date?
    private var bucket: LeakyBucket
    private let ratePerSecond: Double

    public static let minPollMs = 250
    public static let maxPollMs = 5_000

    /// - Parameter nodeShare: the fraction of the sale's rate this node may admit (1 / node count).
    public init(admissionRatePerSecond: Int, nodeShare: Double = 1) {
        ratePerSecond = max(Double(admissionRatePerSecond) * nodeShare, 0.001)
        // A burst of up to one second's share lets a quiet bucket admit a crowd's first poll
        // round at once without ever exceeding the rate over a longer window.
        bucket = LeakyBucket(ratePerSecond: ratePerSecond, burst: max(1, Int(ratePerSecond.rounded(.down))))
    }

    /// Answers a join or poll. `pass` is nil for a shopper without a valid pass; a new one
    /// is issued with first arrival `now`.
    public mutating func answer(
        pass incoming: QueuePass?, sale: Sale, now: Date, monotonicSeconds: Double, newVisitor: () -> UUID
    ) -> QueueAnswer {
        var pass: QueuePass
        if let incoming {
            pass = incoming
        } else {
            pass = QueuePass(saleID: sale.id, visitorID: newVisitor(), firstArrival: now)
            joined += 1
        }
        let available = sale.inventory.available
        func reply(_ status: QueueAnswer.Status, pollAfterMs: Int, position: Int? = nil, eta: Int? = nil) -> QueueAnswer {
            QueueAnswer(
                status: status, pass: pass, position: position, etaSeconds: eta,
                pollAfterMs: min(max(pollAfterMs, Self.minPollMs), Self.maxPollMs), available: available,
                admittedUntil: pass.admittedUntil(ttlSeconds: sale.reservationTTLSeconds), isNewPass: incoming == nil,
                admittedNow: pass.admittedAt == now && incoming?.admittedAt == nil)
        }

        switch sale.status(at: now) {
        case .ended:
            return reply(.ended, pollAfterMs: Self.maxPollMs)
        case .soldOut:
            // Nothing is available or held, so not even an admitted pass can buy.
            return reply(.soldOut, pollAfterMs: Self.maxPollMs)
        case .scheduled:
            let untilStart = Int(sale.startsAt.timeIntervalSince(now) * 1000)
            return reply(.notStarted, pollAfterMs: untilStart)
        case .paused:
            return reply(pass.isAdmitted ? .admitted : .waiting, pollAfterMs: 2_000, position: waitingAhead)
        case .live:
            break
        }
        if pass.isAdmitted { return reply(.admitted, pollAfterMs: Self.maxPollMs) }
        // Held units may come back, so a shopper waits while nothing is available.
        if available > 0, bucket.tryTake(now: monotonicSeconds) {
            pass.admittedAt = now
            admitted += 1
            threshold = max(threshold ?? pass.firstArrival, pass.firstArrival)
            return reply(.admitted, pollAfterMs: Self.maxPollMs)
        }
        let position = waitingAhead
        let eta = Int((Double(position) / ratePerSecond).rounded(.up))
        return reply(.waiting, pollAfterMs: Int(1_000 * min(max(Double(position) / ratePerSecond / 4, 0.5), 5)),
                     position: position, eta: eta)
    }

    /// A rough place in line: shoppers this node saw join and not yet admitted.
    private var waitingAhead: Int { max(1, joined - admitted) }
}
