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

/// One node's admission state for one sale: first come, first served without any state
/// per waiting shopper.
///
/// Shoppers whose first arrival is at or before the *threshold* may be admitted, through a
/// leaky bucket at this node's share of the sale's rate; later ones wait. The threshold
/// moves forward through a histogram of first arrivals, spending *release credit* that
/// accrues at the admission rate times a PI gain: when a control interval admits less than
/// the bucket could (shoppers below the threshold have left, or poll slowly), the error
/// raises the gain and the threshold moves faster, so early-but-gone shoppers do not stall
/// the queue. Admissions also stop while the admitted shoppers who hold nothing yet reach
/// the units available times a no-show factor learnt from this sale's conversions
/// (`NoShowCompensation`): nobody is admitted to find nothing. Mutated under the caller's lock.
public struct AdmissionController: Sendable {
    public private(set) var joined = 0
    public private(set) var admitted = 0
    /// First arrivals at or before this instant may be admitted.
    public private(set) var threshold: Date?
    /// The controller's current gain on the admission rate (1 when admissions keep up).
    public private(set) var gain = 1.0
    /// Time buckets of waiting arrivals held: the node's whole memory of its queue.
    public var arrivalBuckets: Int { arrivals.bucketCount }

    private var bucket: LeakyBucket
    private var ratePerSecond: Double
    /// The sale's rate and opening this state was built for; a patch may change either.
    private var configuredRate: Int
    private var opening: Date?
    private let nodeShare: Double
    private var noShows: NoShowCompensation
    private var arrivals = ArrivalHistogram()
    private var credit: Double
    private var lastTick: Double?
    // The control interval: capacity offered and admissions made since it began.
    private var intervalStart: Double?
    private var intervalAdmitted = 0
    /// Polls from eligible shoppers the bucket refused in this interval: demand at the
    /// front exceeds the rate, so the threshold must slow down until they are served.
    private var intervalRefused = 0
    private var integral = 0.0
    /// Admissions per second, smoothed over control intervals, for the ETA.
    private var smoothedRate: Double

    public static let minPollMs = 250
    public static let maxPollMs = 5_000
    /// PI gains and interval, documented in docs/ARCHITECTURE.md.
    public static let proportionalGain = 1.0
    public static let integralGain = 0.5
    public static let controlInterval = 1.0
    public static let maxGain = 8.0

    /// - Parameters:
    ///   - nodeShare: the fraction of the sale's rate this node may admit (1 / node count).
    ///   - maxNoShowFactor: the most admitted shoppers holding nothing yet, per available
    ///     unit, that the learnt no-show factor may reach (`NoShowCompensation`).
    public init(admissionRatePerSecond: Int, nodeShare: Double = 1, maxNoShowFactor: Double = NoShowCompensation.defaultMaxFactor) {
        configuredRate = admissionRatePerSecond
        ratePerSecond = max(Double(admissionRatePerSecond) * nodeShare, 0.001)
        self.nodeShare = nodeShare
        noShows = NoShowCompensation(maxFactor: maxNoShowFactor)
        bucket = Self.bucket(ratePerSecond: ratePerSecond)
        credit = Double(max(1, Int(ratePerSecond.rounded(.down))))
        smoothedRate = ratePerSecond
    }

    /// A burst of up to one second's share lets a quiet bucket admit a crowd's first poll
    /// round at once without ever exceeding the rate over a longer window.
    private static func bucket(ratePerSecond: Double) -> LeakyBucket {
        LeakyBucket(ratePerSecond: ratePerSecond, burst: max(1, Int(ratePerSecond.rounded(.down))))
    }

    /// Takes up the operator's changes to the sale: a new rate applies from this answer on;
    /// a new opening, made before anyone was admitted, starts the line afresh (the early
    /// birds are re-drawn into the new opening second as they poll).
    private mutating func follow(_ sale: Sale) {
        if sale.admissionRatePerSecond != configuredRate {
            configuredRate = sale.admissionRatePerSecond
            ratePerSecond = max(Double(configuredRate) * nodeShare, 0.001)
            bucket = Self.bucket(ratePerSecond: ratePerSecond)
            credit = min(credit, max(1, ratePerSecond))
        }
        if let opening, opening != sale.startsAt, admitted == 0 {
            arrivals = ArrivalHistogram()
            threshold = nil
            lastTick = nil
            intervalStart = nil
        }
        opening = sale.startsAt
    }

    /// Answers a join or poll. `pass` is nil for a shopper without a valid pass; a new one
    /// is issued with first arrival `now`. `monotonicSeconds` drives the bucket and the
    /// controller; `now` is the wall clock that first arrivals are measured in.
    ///
    /// A shopper who joins before `starts_at` gets a first arrival drawn by `lottery` inside
    /// the opening second (everyone early is equal); without a lottery, the start itself.
    /// An unadmitted pass drawn for an opening that has since moved is drawn again (the
    /// caller passes `lottery` for it: `Lottery.isDrawnForAnotherOpening`).
    ///
    /// `mayAdmit` false answers a pass that polls sooner than it was told with its same
    /// state: it is not admitted on this poll (its next poll, on time, may be), and it is
    /// never refused with a 429 (API.md: polls sooner than `poll_after_ms` do not help).
    public mutating func answer(
        pass incoming: QueuePass?, sale: Sale, now: Date, monotonicSeconds: Double, lottery: Lottery? = nil,
        mayAdmit: Bool = true, newVisitor: () -> UUID
    ) -> QueueAnswer {
        follow(sale)
        var pass: QueuePass
        if let incoming {
            pass = incoming
            if !pass.isAdmitted, let lottery,
                Lottery.isDrawnForAnotherOpening(firstArrival: pass.firstArrival, startsAt: sale.startsAt, now: now)
            {
                pass.firstArrival = lottery.draw(visitor: pass.visitorID, startsAt: sale.startsAt)
            }
        } else {
            let visitor = newVisitor()
            let arrival = now >= sale.startsAt ? now : lottery?.draw(visitor: visitor, startsAt: sale.startsAt) ?? sale.startsAt
            pass = QueuePass(saleID: sale.id, visitorID: visitor, firstArrival: arrival)
            joined += 1
            // The histogram starts at the opening for early birds and the opening crowd, but
            // at the first join for a sale long open (or a node restarted mid-sale): its
            // buckets run from the anchor to now, and a start years back would be billions.
            arrivals.anchor(at: min(arrival, max(sale.startsAt, now.addingTimeInterval(-1))).timeIntervalSince1970)
            arrivals.record(at: pass.firstArrival.timeIntervalSince1970)
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
            return reply(pass.isAdmitted ? .admitted : .waiting, pollAfterMs: 2_000, position: position(of: pass))
        case .live:
            break
        }
        if pass.isAdmitted { return reply(.admitted, pollAfterMs: Self.maxPollMs) }
        let stockOpen = hasStockFor(sale: sale, monotonic: monotonicSeconds)
        tick(now: now.timeIntervalSince1970, monotonic: monotonicSeconds, sale: sale, stockOpen: stockOpen)
        // Within a millisecond: passes carry their first arrival to the millisecond.
        let eligible = threshold.map { pass.firstArrival.timeIntervalSince1970 <= $0.timeIntervalSince1970 + 0.001 } ?? false
        var admit = false
        if eligible && stockOpen && mayAdmit {
            admit = bucket.tryTake(now: monotonicSeconds)
            if !admit { intervalRefused += 1 }
        }
        if admit {
            pass.admittedAt = now
            admitted += 1
            intervalAdmitted += 1
            noShows.admitted(at: monotonicSeconds)
            return reply(.admitted, pollAfterMs: Self.maxPollMs)
        }
        let position = position(of: pass)
        let eta = Int((Double(position) / max(smoothedRate, ratePerSecond * 0.1)).rounded(.up))
        // Shoppers at the front ask again soon; those far back wait longer, with jitter
        // (from their visitor id) so that polls spread out.
        let base = eligible ? 500.0 : min(max(Double(eta) * 1000 / 4, 500), Double(Self.maxPollMs))
        // From the id's last byte (random in a UUIDv7), not `hashValue`, which Swift seeds
        // per process: the same pass is told the same interval on every node and every run.
        let jitter = 0.8 + 0.4 * Double(pass.visitorID.uuid.15) / 255
        return reply(.waiting, pollAfterMs: Int(base * jitter), position: position, eta: eta)
    }

    /// Moves the threshold on by the credit earned since the last answer. While the stock
    /// keeps admissions shut (units held may come back) the threshold stands still, so
    /// that the line is still in order when units return.
    private mutating func tick(now: Double, monotonic: Double, sale: Sale, stockOpen: Bool) {
        let start = max(sale.startsAt.timeIntervalSince1970, 0)
        if threshold == nil { threshold = Date(timeIntervalSince1970: start) }
        guard stockOpen else {
            lastTick = max(lastTick ?? monotonic, monotonic)
            intervalStart = monotonic
            intervalAdmitted = 0
            intervalRefused = 0
            return
        }
        if let last = lastTick, monotonic > last {
            credit += ratePerSecond * gain * (monotonic - last)
        }
        lastTick = max(lastTick ?? monotonic, monotonic)
        updateGain(monotonic: monotonic, now: now)
        // Unspent credit is capped at one second's worth: idle time must not let a later
        // crowd past the threshold all at once.
        credit = min(credit, max(1, ratePerSecond * gain))
        let current = threshold!.timeIntervalSince1970
        let moved = arrivals.advance(threshold: current, credit: credit, limit: now)
        credit = moved.credit
        threshold = Date(timeIntervalSince1970: moved.threshold)
    }

    /// Once per control interval: compares admissions with the bucket's capacity while a
    /// backlog exists and sets the PI gain from that shortfall.
    private mutating func updateGain(monotonic: Double, now: Double) {
        guard let begun = intervalStart else {
            intervalStart = monotonic
            return
        }
        let elapsed = monotonic - begun
        guard elapsed >= Self.controlInterval else { return }
        let capacity = ratePerSecond * elapsed
        let rate = Double(intervalAdmitted) / elapsed
        smoothedRate = 0.7 * smoothedRate + 0.3 * rate
        let backlog = arrivals.waiting(after: threshold?.timeIntervalSince1970 ?? now, through: now) > 0
        // Positive error: capacity went unused (those below the threshold left or poll
        // slowly), so speed up. Negative: eligible shoppers were refused (the threshold let
        // in more than the rate serves), so slow down until they are served first.
        let shortfall = max(0, min(1, (capacity - Double(intervalAdmitted)) / capacity))
        let crowding = min(1, Double(intervalRefused) / max(capacity, 1))
        let error = backlog ? (intervalRefused > 0 ? -crowding : shortfall) : 0
        integral = backlog ? min(max(integral + error * elapsed, -2), 8) : integral * 0.5
        gain = min(Self.maxGain, max(0, 1 + Self.proportionalGain * error + Self.integralGain * integral))
        intervalStart = monotonic
        intervalAdmitted = 0
        intervalRefused = 0
    }

    /// Whether one more admission fits the stock: admitted shoppers still deciding (not
    /// reserved, admitted within the decision time) stay under the learnt no-show factor
    /// times the units available (this node's share).
    private mutating func hasStockFor(sale: Sale, monotonic: Double) -> Bool {
        let lifetime = Double(sale.reservationTTLSeconds)
        noShows.expire(at: monotonic, lifetime: lifetime)
        return noShows.allowsAnother(available: Double(sale.inventory.available) * nodeShare, at: monotonic, lifetime: lifetime)
    }

    /// A shopper admitted at `admittedAt` reserved at `now`: one admission converted.
    public mutating func reserved(admittedAt: Date, now: Date, monotonicSeconds: Double) {
        noShows.converted(at: monotonicSeconds, delay: now.timeIntervalSince(admittedAt))
    }


    /// Shoppers ahead: arrivals this node counted between the threshold and the pass.
    private func position(of pass: QueuePass) -> Int {
        guard let threshold else { return max(1, joined - admitted) }
        let ahead = arrivals.waiting(after: threshold.timeIntervalSince1970, through: pass.firstArrival.timeIntervalSince1970)
        return max(1, Int(ahead.rounded(.up)))
    }
}
