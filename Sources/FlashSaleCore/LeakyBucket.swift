/// A leaky bucket in its GCRA form: each admission moves a theoretical arrival time on by
/// one emission interval; an admission is allowed while that time is no further ahead of
/// now than the burst tolerance. O(1) state, no timers.
public struct LeakyBucket: Sendable, Equatable {
    /// Seconds between admissions at the steady rate.
    public let interval: Double
    /// How far ahead the theoretical arrival time may run: (burst - 1) intervals.
    public let tolerance: Double
    private var theoreticalArrival: Double = 0
    /// Absorbs floating-point error so that `burst` takes at one instant all succeed.
    private static let epsilon = 1e-9

    /// - Parameters:
    ///   - ratePerSecond: steady admissions per second (> 0).
    ///   - burst: admissions allowed back to back after an idle spell (≥ 1).
    public init(ratePerSecond: Double, burst: Int = 1) {
        precondition(ratePerSecond > 0 && burst >= 1)
        interval = 1 / ratePerSecond
        tolerance = Double(burst - 1) * interval
    }

    /// The same bucket at another rate: admissions already taken keep their place (the next
    /// one is allowed when it was), so a change of rate grants no fresh burst.
    public func retuned(ratePerSecond: Double, burst: Int = 1) -> LeakyBucket {
        var bucket = LeakyBucket(ratePerSecond: ratePerSecond, burst: burst)
        bucket.theoreticalArrival = nextAllowed + bucket.tolerance
        return bucket
    }

    /// Takes one admission at `now` (seconds on any monotonic scale) if the bucket has room.
    public mutating func tryTake(now: Double) -> Bool {
        guard wait(now: now) == 0 else { return false }
        theoreticalArrival = max(theoreticalArrival, now) + interval
        return true
    }

    /// The instant (same scale as `now`) from which the next admission is allowed.
    public var nextAllowed: Double { theoreticalArrival - tolerance }

    /// Admissions allowed back to back at `now` (0 up to `burst`).
    public func available(now: Double) -> Int {
        let slack = now - max(theoreticalArrival, now) + tolerance
        return slack < -Self.epsilon ? 0 : Int((slack / interval + Self.epsilon).rounded(.down)) + 1
    }

    /// Seconds until the next admission would be allowed (0 when one is allowed now).
    public func wait(now: Double) -> Double {
        let ahead = theoreticalArrival - tolerance - now
        return ahead <= Self.epsilon ? 0 : ahead
    }
}
