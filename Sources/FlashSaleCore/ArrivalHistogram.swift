import Foundation

/// First arrivals counted in 100 ms buckets: the only memory a node keeps of its waiting
/// shoppers. Its size grows with the time the sale has been open (36,000 buckets an hour),
/// not with the number of shoppers. A Fenwick tree over the buckets answers "how many
/// arrived between the threshold and this pass" in O(log n) for every waiting poll.
///
/// Inside a bucket, arrivals count as spread evenly between the bucket's first and last
/// arrival (not over its whole 100 ms): a burst in its first milliseconds is released as
/// fast as its shoppers become eligible, with no phantom arrivals left to pay for after
/// them (issue 13 §2).
public struct ArrivalHistogram: Sendable, Equatable {
    public static let bucketSeconds = 0.1
    private var base: Int64?
    private var counts: [Double] = []
    /// The first and last arrival recorded in each bucket (seconds); equal for one arrival.
    private var firstArrival: [Double] = []
    private var lastArrival: [Double] = []
    private var tree: [Double] = [0]
    /// The bucket the threshold stands in; every bucket before it has been released.
    private var thresholdIndex = 0
    /// Arrivals of the threshold's bucket already released.
    private var releasedInThreshold = 0.0

    public init() {}

    static func bucket(_ time: Double) -> Int64 { Int64((time / bucketSeconds).rounded(.down)) }

    /// Buckets held (the structure's size).
    public var bucketCount: Int { counts.count }

    private func index(_ time: Double) -> Int {
        guard let base else { return 0 }
        return Int(max(0, Self.bucket(time) - base))
    }

    private func start(of index: Int) -> Double { Double((base ?? 0) + Int64(index)) * Self.bucketSeconds }

    /// Fixes the first bucket before anything is recorded (the sale's start, so that early
    /// arrivals drawn anywhere in the opening second land in their own buckets).
    public mutating func anchor(at time: Double) {
        if base == nil { base = Self.bucket(time) }
    }

    public mutating func record(at time: Double) {
        if base == nil { base = Self.bucket(time) }
        let i = index(time)
        // Behind the threshold's bucket: already released, nothing to wait for.
        guard i >= thresholdIndex else { return }
        grow(to: i + 1)
        if counts[i] == 0 {
            (firstArrival[i], lastArrival[i]) = (time, time)
        } else {
            firstArrival[i] = min(firstArrival[i], time)
            lastArrival[i] = max(lastArrival[i], time)
        }
        counts[i] += 1
        var node = i + 1
        while node < tree.count {
            tree[node] += 1
            node += node & -node
        }
    }

    private mutating func grow(to size: Int) {
        guard size > counts.count else { return }
        let added = max(size, counts.count * 2) - counts.count
        counts += Array(repeating: 0, count: added)
        firstArrival += Array(repeating: 0, count: added)
        lastArrival += Array(repeating: 0, count: added)
        // Rebuild the tree for the new length: O(n), amortised by doubling.
        tree = [0] + counts
        for node in 1..<tree.count {
            let parent = node + (node & -node)
            if parent < tree.count { tree[parent] += tree[node] }
        }
    }

    /// Arrivals in buckets `0...i`.
    private func prefix(_ i: Int) -> Double {
        var node = min(i, counts.count - 1) + 1
        var sum = 0.0
        while node > 0 {
            sum += tree[node]
            node -= node & -node
        }
        return sum
    }

    /// The stretch of bucket `i` its arrivals are spread over: from its first to its last
    /// arrival, or its whole 100 ms when empty.
    private func span(of i: Int) -> (from: Double, to: Double) {
        guard i < counts.count, counts[i] > 0 else { return (start(of: i), start(of: i) + Self.bucketSeconds) }
        return (firstArrival[i], lastArrival[i])
    }

    /// Arrivals not yet released from the threshold up to `time`. Within `time`'s own bucket
    /// arrivals count as spread evenly between its first and last (after the threshold,
    /// when it stands there), so shoppers of one burst get distinct, ordered positions.
    public func waiting(after threshold: Double, through time: Double) -> Double {
        let i = index(time)
        guard !counts.isEmpty, i >= thresholdIndex, time >= threshold else { return 0 }
        let released = (thresholdIndex > 0 ? prefix(thresholdIndex - 1) : 0) + releasedInThreshold
        let before = i > 0 ? prefix(i - 1) : 0
        let full = max(0, before - released)
        let inBucket = i < counts.count ? counts[i] - (i == thresholdIndex ? releasedInThreshold : 0) : 0
        let stretch = span(of: i)
        let from = i == thresholdIndex ? max(stretch.from, threshold) : stretch.from
        let fraction = stretch.to > from ? min(1, max(0, (time - from) / (stretch.to - from))) : (time >= stretch.to ? 1 : 0)
        return full + max(0, inBucket) * fraction
    }

    /// Moves `threshold` forward through the recorded arrivals, releasing at most `credit`
    /// of them and never passing `limit`. Empty stretches pass free; a bucket only partly
    /// paid for is passed in proportion (its arrivals count as uniform between its first
    /// and last). Returns the new threshold and the unspent credit.
    public mutating func advance(threshold: Double, credit: Double, limit: Double) -> (threshold: Double, credit: Double) {
        guard limit > threshold else { return (threshold, credit) }
        var threshold = threshold
        var credit = credit
        let last = index(limit)
        while thresholdIndex <= last {
            let i = thresholdIndex
            let count = i < counts.count ? counts[i] : 0
            let stretch = span(of: i)
            // The bucket holding `limit` owes only its arrivals up to `limit` (early birds'
            // draws lie ahead of the clock until the opening second has passed).
            var due = count
            if i == last, count > 0, limit < stretch.to {
                due = limit < stretch.from ? 0 : count * (limit - stretch.from) / max(stretch.to - stretch.from, 1e-9)
            }
            let remaining = max(0, due - releasedInThreshold)
            let end = start(of: i) + Self.bucketSeconds
            // Spent: stop at the end of the bucket paid for, not at the next one's first arrival.
            if credit <= 1e-9, remaining > 0 { return (min(threshold, limit), 0) }
            if remaining > credit {
                let from = max(threshold, stretch.from)
                releasedInThreshold += credit
                return (min(max(from + credit / remaining * (min(stretch.to, limit) - from), threshold), limit), 0)
            }
            credit -= remaining
            if i == last {
                // The bucket holding `limit` stays the threshold's: later arrivals in it
                // still wait for credit.
                releasedInThreshold += remaining
                return (limit, credit)
            }
            releasedInThreshold = 0
            thresholdIndex += 1
            threshold = end
        }
        return (limit, credit)
    }
}
