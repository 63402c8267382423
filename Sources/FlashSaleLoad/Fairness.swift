/// First come, first served as the crowd saw it: of all pairs of shoppers whose arrivals
/// are ordered (at least one of whom was admitted), the share admitted in arrival order.
///
/// The contract orders arrivals only "within the resolution of one poll interval" (the
/// waiting room places shoppers of one 100 ms bucket in an order of its own), so arrivals
/// closer than `arrivalResolution` form no pair.
///
/// A client only learns it was admitted at its next poll, so two shoppers admitted in
/// order by the server can see their admissions up to one poll interval apart the other
/// way round. Each entry therefore carries its own `lag`, the poll interval it observed
/// (from sending its last poll that still said waiting to seeing the admission): the
/// server may have admitted it that much earlier. A pair counts as inverted only when the
/// later arrival was admitted more than that interval (and at least `tolerance`) before
/// the earlier one. A shopper who waited to the end (sold out, ended, or the run cut off)
/// and was never admitted counts as admitted at infinity, so a later
/// arrival admitted in their place is an inversion. Shoppers who gave up are left out.
public struct Fairness: Sendable, Equatable, Codable {
    public var pairs: Int
    public var inverted: Int
    public var toleranceSeconds: Double
    /// Arrivals closer than this are not ordered (the contract's "within one poll interval").
    public var arrivalResolutionSeconds: Double
    /// `1 - inverted / pairs`; 1 when there are no pairs.
    public var inOrderShare: Double

    public init(pairs: Int, inverted: Int, toleranceSeconds: Double, arrivalResolutionSeconds: Double = 0) {
        self.pairs = pairs
        self.inverted = inverted
        self.toleranceSeconds = toleranceSeconds
        self.arrivalResolutionSeconds = arrivalResolutionSeconds
        inOrderShare = pairs == 0 ? 1 : 1 - Double(inverted) / Double(pairs)
    }

    /// One shopper's arrival and admission (nil: waited to the end, never admitted), in
    /// seconds on any one clock, and the poll interval it observed before its admission.
    /// Arrivals before the opening should be clamped to it first.
    public struct Entry: Sendable, Equatable {
        public var arrival: Double
        public var admitted: Double?
        public var lag: Double
        public init(arrival: Double, admitted: Double?, lag: Double = 0) {
            self.arrival = arrival
            self.admitted = admitted
            self.lag = lag
        }

        /// The earliest the server can have admitted this shopper.
        func earliestAdmission(tolerance: Double) -> Double { admitted.map { $0 - max(lag, tolerance) } ?? .infinity }
    }

    /// Counts in O(n log n): entries in arrival order, each compared through a Fenwick tree
    /// over the earliest admission times of everyone who arrived more than `arrivalResolution`
    /// earlier (0: strictly earlier; shoppers arriving together are never ordered).
    public static func measure(_ entries: [Entry], tolerance: Double, arrivalResolution: Double = 0) -> Fairness {
        let sorted = entries.sorted { $0.arrival < $1.arrival }
        let ranks = Array(Set(sorted.map { $0.earliestAdmission(tolerance: tolerance) })).sorted()
        var tree = FenwickCounts(size: ranks.count)
        var earlier = 0
        var earlierAdmitted = 0
        var pairs = 0
        var inverted = 0
        for entry in sorted {
            while earlier < sorted.count, sorted[earlier].arrival < entry.arrival - arrivalResolution {
                tree.add(at: lowerBound(ranks, sorted[earlier].earliestAdmission(tolerance: tolerance)))
                if sorted[earlier].admitted != nil { earlierAdmitted += 1 }
                earlier += 1
            }
            guard let admitted = entry.admitted else {
                pairs += earlierAdmitted
                continue
            }
            pairs += earlier
            inverted += earlier - tree.prefixCount(upperBound(ranks, admitted))
        }
        return Fairness(pairs: pairs, inverted: inverted, toleranceSeconds: tolerance, arrivalResolutionSeconds: arrivalResolution)
    }

    private static func lowerBound(_ values: [Double], _ value: Double) -> Int {
        var (low, high) = (0, values.count)
        while low < high {
            let mid = (low + high) / 2
            if values[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// How many values are `<= value`.
    private static func upperBound(_ values: [Double], _ value: Double) -> Int {
        var (low, high) = (0, values.count)
        while low < high {
            let mid = (low + high) / 2
            if values[mid] <= value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// Counts per index with prefix sums in O(log n).
struct FenwickCounts {
    private var tree: [Int]
    init(size: Int) { tree = Array(repeating: 0, count: size + 1) }

    mutating func add(at index: Int) {
        var i = index + 1
        while i < tree.count {
            tree[i] += 1
            i += i & -i
        }
    }

    /// Sum of the counts at indices `0..<count`.
    func prefixCount(_ count: Int) -> Int {
        var (i, sum) = (count, 0)
        while i > 0 {
            sum += tree[i]
            i -= i & -i
        }
        return sum
    }
}
