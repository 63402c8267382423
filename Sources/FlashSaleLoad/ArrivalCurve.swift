import Foundation

/// When the crowd's shoppers arrive, in seconds from the sale's opening: a spike (most of
/// them within the first seconds, as when a drop is announced) and then a tail that thins
/// out exponentially, as latecomers hear of it.
public struct ArrivalCurve: Sendable, Equatable {
    /// Share of shoppers in the spike, 0…1.
    public var spikeShare: Double
    /// The spike's length: its shoppers arrive uniformly within `[-early, spikeSeconds)`.
    public var spikeSeconds: Double
    /// The tail's length; tail shoppers arrive after the spike with a mean delay of a third
    /// of it, folded back into it so nobody arrives later than `spikeSeconds + tailSeconds`.
    public var tailSeconds: Double
    /// Seconds before the opening from which spike shoppers may already be there (they are
    /// all equal to the waiting room: it orders them by a draw at the start).
    public var earlySeconds: Double

    public init(spikeShare: Double = 0.7, spikeSeconds: Double = 2, tailSeconds: Double = 20, earlySeconds: Double = 0) {
        self.spikeShare = min(max(spikeShare, 0), 1)
        self.spikeSeconds = max(spikeSeconds, 0)
        self.tailSeconds = max(tailSeconds, 0)
        self.earlySeconds = max(earlySeconds, 0)
    }

    /// Arrival offsets of `count` shoppers, ascending.
    public func offsets<G: RandomNumberGenerator>(count: Int, using generator: inout G) -> [Double] {
        let spikeCount = Int((Double(count) * spikeShare).rounded())
        var offsets: [Double] = []
        offsets.reserveCapacity(count)
        for _ in 0..<spikeCount {
            offsets.append(uniform(from: -earlySeconds, to: spikeSeconds, using: &generator))
        }
        for _ in spikeCount..<max(count, spikeCount) {
            guard tailSeconds > 0 else {
                offsets.append(spikeSeconds)
                continue
            }
            // Exponential with mean tail/3, folded into [0, tail) so the curve keeps its shape.
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            let delay = (-(tailSeconds / 3) * Foundation.log(u)).truncatingRemainder(dividingBy: tailSeconds)
            offsets.append(spikeSeconds + delay)
        }
        return offsets.sorted()
    }

    private func uniform<G: RandomNumberGenerator>(from low: Double, to high: Double, using generator: inout G) -> Double {
        high > low ? Double.random(in: low..<high, using: &generator) : low
    }
}
