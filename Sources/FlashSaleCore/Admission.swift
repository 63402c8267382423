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
/// moves forward through a histogram of first arrivals just far enough that a *lead* of
/// released-but-not-admitted shoppers stands ready: `leadSeconds` of admissions, at least
/// one. Admissions use up the lead (oldest release first); a release nobody claims within
/// `releasePatience` (its shoppers left, or poll slowly) expires, so the threshold moves on
/// past shoppers who are gone instead of stalling. The shoppers eligible at any moment thus
/// span about half a second of admissions (the earliest of them keeps the next token), and
/// as their poll interval shrinks near their turn, they are asked about when they become
/// eligible (issue 13 §2). Admissions also stop
/// while the admitted shoppers who hold nothing yet reach the units available times a
/// no-show factor learnt from this sale's conversions (`NoShowCompensation`): nobody is
/// admitted to find nothing. Mutated under the caller's lock.
public struct AdmissionController: Sendable {
    public private(set) var joined = 0
    public private(set) var admitted = 0
    /// First arrivals at or before this instant may be admitted.
    public private(set) var threshold: Date?
    /// Time buckets of waiting arrivals held: the node's whole memory of its queue.
    public var arrivalBuckets: Int { arrivals.bucketCount }

    private var bucket: LeakyBucket
    private var ratePerSecond: Double
    /// The sale's rate and opening this state was built for; a patch may change either.
    private var configuredRate: Int
    private var opening: Date?
    private var nodeShare: Double
    /// Where the other nodes' thresholds allow this one's (`ClusterAdmission.bounds`).
    private var bounds = ThresholdBounds.none
    private var noShows: NoShowCompensation
    private var arrivals = ArrivalHistogram()
    /// Releases not yet claimed by an admission, oldest first: (monotonic time, arrivals).
    private var lead: [(time: Double, count: Double)] = []
    /// Arrivals the threshold may still release: it accrues at the admission rate up to the
    /// lead's size, so the line is released no faster than it is admitted (a crowd's first
    /// poll round cannot release later shoppers ahead of earlier ones still to poll), and a
    /// release that held nobody is given back.
    private var releaseCredit = 0.0
    private var lastTick: Double?
    /// Admissions per second, smoothed over one-second intervals, for the ETA.
    private var smoothedRate: Double
    private var rateIntervalStart: Double?
    private var rateIntervalAdmitted = 0
    /// Eligible shoppers the bucket refused in this interval: the lead was enough.
    private var rateIntervalRefused = 0
    /// The stock shut admissions at some point in this interval.
    private var rateIntervalStockShut = false
    /// The last whole interval's admissions per second, and when it closed (monotonic).
    private var lastInterval: (rate: Double, end: Double) = (0, -Double.infinity)
    /// How many times `leadSeconds` the lead holds (1 to `maxLeadScale`), set once a
    /// second from whether the bucket or the shoppers held admissions back.
    private var leadScale = 1.0
    /// The earliest-arrived eligible shopper the bucket has refused lately: the next token
    /// is kept for them for `claimGrace`, so whoever polls first does not overtake them.
    private var claimant: (arrival: Double, visitor: UUID, seen: Double)?
    /// When an eligible shopper last polled (monotonic seconds).
    private var lastEligiblePoll = -Double.infinity

    public static let minPollMs = 250
    public static let maxPollMs = 5_000
    /// Seconds of admissions kept released ahead of them (at least one shopper): enough
    /// that the bucket's next token finds someone eligible, few enough that the eligible
    /// span half a second of arrivals, not a poll round's worth.
    public static let leadSeconds = 0.5
    /// Seconds a release waits to be claimed before its shoppers count as gone: a shopper
    /// at the front polls every 0.4–0.6 s, so three missed polls.
    public static let releasePatience = 1.5
    /// Seconds a free token waits for the claimant, who was told to come back when it frees.
    public static let claimGrace = 0.35
    /// A release with no eligible poll for this long, while the next shopper in line is
    /// asking, held nobody (inside a 100 ms bucket arrivals are only estimated): it is
    /// dropped at once rather than after `releasePatience`.
    public static let quietLead = 0.5
    /// The lead grows to at most this many times `leadSeconds`. By Little's law the lead
    /// that keeps the bucket busy is the rate times the time a released shopper takes to
    /// ask: up to a second's poll interval plus their round trip, which a busy machine
    /// stretches (issue 15: at 500/s, half a second of lead admitted ~300/s).
    public static let maxLeadScale = 4.0

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
        smoothedRate = ratePerSecond
        releaseCredit = leadTarget
    }

    /// A burst of up to one second's share lets a quiet bucket admit a crowd's first poll
    /// round at once without ever exceeding the rate over a longer window.
    private static func bucket(ratePerSecond: Double) -> LeakyBucket {
        LeakyBucket(ratePerSecond: ratePerSecond, burst: burst(ratePerSecond))
    }

    private static func burst(_ ratePerSecond: Double) -> Int { max(1, Int(ratePerSecond.rounded(.down))) }

    /// Takes up a new share of the sale's rate (the live nodes changed) and the bounds the
    /// other nodes' thresholds put on this one's. Admissions already made keep their place
    /// in the bucket: a node that dies hands its share to the others without a burst.
    public mutating func follow(nodeShare share: Double, bounds: ThresholdBounds) {
        self.bounds = bounds
        guard share > 0, abs(share - nodeShare) > 1e-9 else { return }
        nodeShare = share
        retune()
    }

    private mutating func retune() {
        ratePerSecond = max(Double(configuredRate) * nodeShare, 0.001)
        bucket = bucket.retuned(ratePerSecond: ratePerSecond, burst: Self.burst(ratePerSecond))
    }

    /// Takes up the operator's changes to the sale: a new rate applies from this answer on;
    /// a new opening, made before anyone was admitted, starts the line afresh (the early
    /// birds are re-drawn into the new opening second as they poll).
    private mutating func follow(_ sale: Sale) {
        if sale.admissionRatePerSecond != configuredRate {
            configuredRate = sale.admissionRatePerSecond
            retune()
        }
        if let opening, opening != sale.startsAt, admitted == 0 {
            arrivals = ArrivalHistogram()
            threshold = nil
            lead = []
            lastTick = nil
            releaseCredit = leadTarget
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
                status: status, pass: pass, position: position.map(deploymentPosition), etaSeconds: eta,
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
        func isEligible() -> Bool {
            threshold.map { pass.firstArrival.timeIntervalSince1970 <= $0.timeIntervalSince1970 + 0.001 } ?? false
        }
        var eligible = isEligible()
        if !eligible, stockOpen, claimant == nil, let oldest = lead.first?.time,
            monotonicSeconds - max(oldest, lastEligiblePoll) > Self.quietLead
        {
            // The next in line is asking and nobody released has been seen: the lead held no one.
            dropLead { _ in true }
            tick(now: now.timeIntervalSince1970, monotonic: monotonicSeconds, sale: sale, stockOpen: stockOpen)
            eligible = isEligible()
        }
        if eligible { lastEligiblePoll = monotonicSeconds }
        var admit = false
        let arrival = pass.firstArrival.timeIntervalSince1970
        if let held = claimant, monotonicSeconds - held.seen > Self.releasePatience { claimant = nil }
        if eligible && stockOpen && mayAdmit {
            // First come, first served among the eligible: an earlier one who is polling keeps
            // the last free token for a moment after it frees. With several free, taking one
            // leaves the claimant theirs: keeping all of them froze a busy line for
            // `claimGrace` after every burst, which gathered the next burst (issue 15).
            let yields = claimant.map {
                $0.visitor != pass.visitorID && $0.arrival < arrival - 0.001
                    && monotonicSeconds < bucket.nextAllowed + Self.claimGrace
                    && bucket.available(now: monotonicSeconds) < 2
            } ?? false
            admit = !yields && bucket.tryTake(now: monotonicSeconds)
            if admit {
                if claimant?.visitor == pass.visitorID { claimant = nil }
            } else {
                if !yields { rateIntervalRefused += 1 }
                if claimant.map({ arrival < $0.arrival || $0.visitor == pass.visitorID }) ?? true {
                    claimant = (arrival, pass.visitorID, monotonicSeconds)
                }
                // They are here: the releases they stand for are not gone.
                holdLead(at: monotonicSeconds)
            }
        }
        if admit {
            pass.admittedAt = now
            admitted += 1
            rateIntervalAdmitted += 1
            claimLead()
            noShows.admitted(at: monotonicSeconds)
            return reply(.admitted, pollAfterMs: Self.maxPollMs)
        }
        let position = position(of: pass)
        let eta = Int((Double(position) / max(smoothedRate, ratePerSecond * 0.1)).rounded(.up))
        // Shoppers at the front ask again soon; those far back wait longer, with jitter
        // (from their visitor id) so that polls spread out.
        if eligible && stockOpen {
            // Come back when the next token frees: being eligible and being asked coincide.
            let untilToken = max(0, bucket.nextAllowed - monotonicSeconds)
            let early = claimant?.visitor == pass.visitorID ? 0.0 : 0.05
            return reply(.waiting, pollAfterMs: Int((untilToken + early) * 1000) + 10, position: position, eta: eta)
        }
        // Near the front (two seconds of admissions, at least ten shoppers) at least once a
        // second: positions inside a 100 ms bucket are estimates, and a shopper told a long
        // wait on a wrong one would miss their turn and stall the line.
        let front = Double(position) <= max(10, 2 * ratePerSecond)
        let base = min(max(Double(eta) * 1000 / 4, 500), front ? 1_000 : Double(Self.maxPollMs))
        // From the id's last byte (random in a UUIDv7), not `hashValue`, which Swift seeds
        // per process: the same pass is told the same interval on every node and every run.
        let jitter = 0.8 + 0.4 * Double(pass.visitorID.uuid.15) / 255
        return reply(.waiting, pollAfterMs: Int(base * jitter), position: position, eta: eta)
    }

    /// Moves the threshold on until the lead of released shoppers is back to
    /// `leadSeconds` of admissions. While the stock keeps admissions shut (units held may
    /// come back) the threshold stands still, so that the line is still in order when units
    /// return.
    private mutating func tick(now: Double, monotonic: Double, sale: Sale, stockOpen: Bool) {
        let start = max(sale.startsAt.timeIntervalSince1970, 0)
        if threshold == nil { threshold = Date(timeIntervalSince1970: start) }
        if !stockOpen { rateIntervalStockShut = true }
        updateRate(monotonic: monotonic, now: now)
        let target = leadTarget
        let elapsed = lastTick.map { max(0, monotonic - $0) } ?? 0
        lastTick = max(lastTick ?? monotonic, monotonic)
        guard stockOpen else {
            // Releases made before the stock closed wait for it, not for their patience.
            holdLead(at: monotonic)
            return
        }
        releaseCredit = min(target, releaseCredit + ratePerSecond * elapsed)
        if let floor = bounds.floor?.timeIntervalSince1970, floor > threshold!.timeIntervalSince1970 {
            // Another node let these arrivals through already: they pass here too, unpaid.
            let caughtUp = arrivals.advance(threshold: threshold!.timeIntervalSince1970, credit: .greatestFiniteMagnitude, limit: min(floor, now))
            threshold = Date(timeIntervalSince1970: caughtUp.threshold)
        }
        // Releases nobody claimed in time: their shoppers left or are not asking.
        dropLead { monotonic - $0.time > Self.releasePatience }
        let ready = lead.reduce(0) { $0 + $1.count }
        let wanted = min(target - ready, releaseCredit)
        guard wanted > 0 else { return }
        let current = threshold!.timeIntervalSince1970
        let limit = min(now, bounds.ceiling?.timeIntervalSince1970 ?? now)
        let moved = arrivals.advance(threshold: current, credit: wanted, limit: limit)
        threshold = Date(timeIntervalSince1970: moved.threshold)
        let released = wanted - moved.credit
        if released > 0 {
            lead.append((monotonic, released))
            releaseCredit -= released
        }
    }

    /// The lead's size: `leadSeconds` of this node's admissions, at least one shopper.
    private var leadTarget: Double { max(1, ratePerSecond * Self.leadSeconds * leadScale) }

    /// Drops the releases `isGone` picks, giving their credit back: they held nobody.
    private mutating func dropLead(where isGone: ((time: Double, count: Double)) -> Bool) {
        for release in lead where isGone(release) { releaseCredit = min(leadTarget, releaseCredit + release.count) }
        lead.removeAll(where: isGone)
    }

    /// Restarts the patience of every release at `monotonic`: their shoppers are known to
    /// be there, or the stock, not they, keeps them waiting.
    private mutating func holdLead(at monotonic: Double) {
        for index in lead.indices { lead[index].time = max(lead[index].time, monotonic) }
    }

    /// One admission claims one released arrival, the oldest first.
    private mutating func claimLead() {
        var claim = 1.0
        while claim > 0, !lead.isEmpty {
            let taken = min(claim, lead[0].count)
            lead[0].count -= taken
            claim -= taken
            if lead[0].count <= 1e-9 { lead.removeFirst() }
        }
    }

    /// Once a second: the achieved admission rate, smoothed, for the ETA.
    private mutating func updateRate(monotonic: Double, now: Double) {
        guard let begun = rateIntervalStart else {
            rateIntervalStart = monotonic
            return
        }
        let elapsed = monotonic - begun
        guard elapsed >= 1 else { return }
        let backlog = arrivals.waiting(after: threshold?.timeIntervalSince1970 ?? now, through: now) > 0
        let achieved = Double(rateIntervalAdmitted) / elapsed
        lastInterval = (achieved, monotonic)
        if backlog { smoothedRate = 0.7 * smoothedRate + 0.3 * achieved }
        // The lead adapts to how fast released shoppers come to claim: a bucket that refused
        // nobody while admitting under the rate, with shoppers still in line, had tokens
        // and nobody eligible asking for them (a longer lead); a bucket that refused eligible
        // shoppers was the limit (the lead may shrink back, which keeps the eligible few).
        if rateIntervalRefused > 0 {
            leadScale = max(1, leadScale * 0.9)
        } else if backlog, !rateIntervalStockShut, achieved < 0.95 * ratePerSecond {
            leadScale = min(Self.maxLeadScale, leadScale * 1.25)
        }
        rateIntervalStart = monotonic
        rateIntervalAdmitted = 0
        rateIntervalRefused = 0
        rateIntervalStockShut = false
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

    /// This node's line as the other nodes are told it: its threshold only while it answers
    /// polls (`ClusterAdmission.activeWithin`).
    public func line(nodeID: UUID, saleID: UUID, now: Date, monotonicSeconds: Double) -> NodeLine {
        let figures = figures(now: now, monotonicSeconds: monotonicSeconds)
        let active = lastTick.map { monotonicSeconds - $0 < ClusterAdmission.activeWithin } ?? false
        return NodeLine(
            nodeID: nodeID, saleID: saleID, threshold: active ? threshold : nil, joined: joined, admitted: admitted,
            waiting: figures.waiting, achievedRatePerSecond: figures.achievedRatePerSecond)
    }

    /// What the operator sees of this node's line at `now` (`monotonicSeconds` as in
    /// `answer`): its counts, the rate asked and the rate achieved in the last whole second,
    /// how far the threshold trails the clock, and the wait a shopper joining now would be
    /// told. `waiting` is an estimate: the arrivals this node counted after the threshold.
    public func figures(now: Date, monotonicSeconds: Double) -> QueueFigures {
        let nowSeconds = now.timeIntervalSince1970
        let waiting: Double =
            if let threshold {
                // Those released but not yet admitted still wait too.
                arrivals.waiting(after: threshold.timeIntervalSince1970, through: nowSeconds) + lead.reduce(0) { $0 + $1.count }
            } else {
                Double(max(0, joined - admitted))
            }
        let lag = waiting >= 1 ? threshold.map { max(0, now.timeIntervalSince($0)) } ?? 0 : 0
        let wait = waiting >= 1 ? ((waiting + 1) / max(smoothedRate, ratePerSecond * 0.1)).rounded(.up) : 0
        return QueueFigures(
            joined: joined, waiting: Int(waiting.rounded()), admitted: admitted, admissionRatePerSecond: configuredRate,
            nodeRatePerSecond: ratePerSecond,
            // Intervals close on answers; none for two seconds means none were admitted.
            achievedRatePerSecond: monotonicSeconds - lastInterval.end < 2 ? lastInterval.rate : 0, threshold: threshold,
            thresholdLagSeconds: lag, newShopperWaitSeconds: Int(wait))
    }

    /// Shoppers ahead across the deployment, as told: this node counted the arrivals it
    /// received, its share of them when the balancer spreads them evenly (the ETA needs no
    /// such estimate: this node's count over this node's rate).
    private func deploymentPosition(_ ownCount: Int) -> Int { max(1, Int((Double(ownCount) / nodeShare).rounded())) }

    /// Shoppers ahead: arrivals this node counted between the threshold and the pass.
    private func position(of pass: QueuePass) -> Int {
        guard let threshold else { return max(1, joined - admitted) }
        let ahead = arrivals.waiting(after: threshold.timeIntervalSince1970, through: pass.firstArrival.timeIntervalSince1970)
        return max(1, Int(ahead.rounded(.up)))
    }
}

/// One node's line for one sale, as the operator's dashboard, `/api/v1/admin/events` and
/// `/metrics` show it (`AdmissionController.figures(now:)`).
public struct QueueFigures: Sendable, Equatable {
    /// Passes this node issued.
    public var joined: Int
    /// Shoppers counted after the threshold or released and not yet admitted: an estimate
    /// (arrivals are kept in 100 ms buckets).
    public var waiting: Int
    /// Passes this node admitted.
    public var admitted: Int
    /// The sale's configured rate, per second, for the whole sale.
    public var admissionRatePerSecond: Int
    /// This node's share of that rate, per second.
    public var nodeRatePerSecond: Double
    /// Admissions per second this node achieved in its last whole second of answers.
    public var achievedRatePerSecond: Double
    /// First arrivals at or before this instant may be admitted.
    public var threshold: Date?
    /// Seconds the threshold trails the clock while shoppers wait (0 when nobody waits):
    /// how long the last shopper admitted had waited.
    public var thresholdLagSeconds: Double
    /// The wait, in seconds, a shopper joining now would be told.
    public var newShopperWaitSeconds: Int

    public init(
        joined: Int = 0, waiting: Int = 0, admitted: Int = 0, admissionRatePerSecond: Int, nodeRatePerSecond: Double,
        achievedRatePerSecond: Double = 0, threshold: Date? = nil, thresholdLagSeconds: Double = 0, newShopperWaitSeconds: Int = 0
    ) {
        self.joined = joined
        self.waiting = waiting
        self.admitted = admitted
        self.admissionRatePerSecond = admissionRatePerSecond
        self.nodeRatePerSecond = nodeRatePerSecond
        self.achievedRatePerSecond = achievedRatePerSecond
        self.threshold = threshold
        self.thresholdLagSeconds = thresholdLagSeconds
        self.newShopperWaitSeconds = newShopperWaitSeconds
    }
}
