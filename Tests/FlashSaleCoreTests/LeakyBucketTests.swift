import Testing
@testable import FlashSaleCore

@Suite("LeakyBucket")
struct LeakyBucketTests {
    /// Sorted random poll times in [start, start + window]; some repeat exactly, some fall on
    /// multiples of the emission interval (where floating-point boundaries are hit exactly).
    static func pollTimes(_ rng: inout SplitMix64, start: Double, window: Double, interval: Double, count: Int) -> [Double] {
        var times: [Double] = []
        for _ in 0..<count {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0 where !times.isEmpty: times.append(rng.element(of: times))
            case 1, 2: times.append(start + Double(Int.random(in: 0...Int(window / interval), using: &rng)) * interval)
            default: times.append(start + Double.random(in: 0...window, using: &rng))
            }
        }
        return times.sorted()
    }

    /// `tryTake` at each time in turn (a mutating call cannot sit inside `#expect`).
    static func takes(_ bucket: inout LeakyBucket, at times: [Double]) -> [Bool] {
        times.map { bucket.tryTake(now: $0) }
    }

    @Test("interval and tolerance follow from rate and burst")
    func parameters() {
        let bucket = LeakyBucket(ratePerSecond: 4, burst: 3)
        #expect(bucket.interval == 0.25)
        #expect(bucket.tolerance == 0.5)
        #expect(LeakyBucket(ratePerSecond: 10).tolerance == 0)
    }

    /// Intervals that are exact binary fractions (1/4 s) cannot round; 1/10 s and 1/50 s can.
    @Test("a fresh bucket allows exactly `burst` takes at one instant, late on the monotonic clock", arguments: [
        (4.0, 1), (4.0, 5), (4.0, 40), (10.0, 1), (10.0, 2), (10.0, 5), (50.0, 50), (3.0, 3),
    ])
    func burst(rate: Double, burst: Int) {
        var bucket = LeakyBucket(ratePerSecond: rate, burst: burst)
        let results = Self.takes(&bucket, at: Array(repeating: 1_000, count: burst * 3 + 5))
        #expect(results.filter { $0 }.count == burst)
        #expect(results.prefix(burst).allSatisfy { $0 }, "the first `burst` succeed")
        #expect(bucket.wait(now: 1_000) > 0)
    }

    @Test("after the burst, one take per interval")
    func steadyRate() {
        var bucket = LeakyBucket(ratePerSecond: 2, burst: 1)
        let results = Self.takes(&bucket, at: [100, 100.25, 100.49, 100.5, 100.5, 101.0])
        #expect(results == [true, false, false, true, false, true])
    }

    @Test("after an idle spell the burst refills but never beyond `burst`")
    func idleRefill() {
        var bucket = LeakyBucket(ratePerSecond: 4, burst: 3)
        #expect(Self.takes(&bucket, at: [10, 10, 10, 10]) == [true, true, true, false])
        #expect(Self.takes(&bucket, at: Array(repeating: 10_000, count: 10)).filter { $0 }.count == 3)
    }

    @Test("property: successful takes in any window of length T are at most r*T + b")
    func rateBound() {
        var rng = SplitMix64(seed: 0xB0C4E7)
        for _ in 0..<300 {
            let rate = Double.random(in: 0.2...200, using: &rng)
            let burst = Int.random(in: 1...20, using: &rng)
            let window = Double.random(in: 0.5...20, using: &rng)
            var bucket = LeakyBucket(ratePerSecond: rate, burst: burst)
            let start = Double.random(in: 0...1_000_000, using: &rng)
            let times = Self.pollTimes(&rng, start: start, window: window, interval: 1 / rate, count: Int.random(in: 1...600, using: &rng))
            let taken = times.filter { bucket.tryTake(now: $0) }
            #expect(Double(taken.count) <= rate * window + Double(burst) + 1e-9,
                    "rate \(rate) burst \(burst) window \(window): \(taken.count)")
            // Every sub-window obeys the same bound (sliding windows between two admissions).
            for i in taken.indices {
                for j in i..<taken.count {
                    let allowed = rate * (taken[j] - taken[i]) + Double(burst) + 1e-6
                    if Double(j - i + 1) > allowed {
                        Issue.record("\(j - i + 1) takes in \(taken[j] - taken[i]) s at rate \(rate) burst \(burst)")
                    }
                }
            }
        }
    }

    /// Polling every δ, each admission can come up to δ after its slot (and no earlier), so at
    /// least T / (1/r + δ) + b - 1 of the r*T + b admissions happen; a finer δ gets closer.
    @Test("property: continuous polling admits close to r*T + b")
    func continuousPollingApproachesRate() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<100 {
            let rate = Double.random(in: 0.5...50, using: &rng)
            let burst = Int.random(in: 1...10, using: &rng)
            let window = Double.random(in: 1...5, using: &rng)
            var bucket = LeakyBucket(ratePerSecond: rate, burst: burst)
            let step = 1 / rate / 100
            let start = Double.random(in: 0...1_000, using: &rng)
            var taken = 0
            var k = 0.0
            while k * step <= window {
                if bucket.tryTake(now: start + k * step) { taken += 1 }
                k += 1
            }
            let ideal = rate * window + Double(burst)
            let floor = window / (1 / rate + step) + Double(burst) - 1
            #expect(Double(taken) <= ideal + 1e-9)
            #expect(Double(taken) >= floor - 1, "rate \(rate) burst \(burst) window \(window): \(taken) of \(ideal)")
        }
    }

    @Test("property: wait(now:) is 0 exactly when a take would succeed (random instants)")
    func waitMatchesTryTake() {
        var rng = SplitMix64(seed: 4242)
        var mismatches: [String] = []
        for _ in 0..<300 {
            let rate = Double.random(in: 0.5...100, using: &rng)
            let burst = Int.random(in: 1...8, using: &rng)
            var bucket = LeakyBucket(ratePerSecond: rate, burst: burst)
            let start = Double.random(in: 0...10_000, using: &rng)
            let times = (0..<100).map { _ in start + Double.random(in: 0...5, using: &rng) }.sorted()
            for now in times {
                let wait = bucket.wait(now: now)
                var probe = bucket
                let wouldTake = probe.tryTake(now: now)
                if (wait == 0) != wouldTake { mismatches.append("now \(now) wait \(wait) rate \(rate) burst \(burst)") }
                #expect(wait >= 0)
                #expect(wait <= Double(1) / rate + 1e-9, "never more than one interval away")
                if wait > 0 {
                    var later = bucket
                    let tookLater = later.tryTake(now: now + wait + 1e-9)
                    #expect(tookLater, "a take succeeds once the wait has passed")
                }
                if rng.bool(0.7) { _ = bucket.tryTake(now: now) }
            }
        }
        #expect(mismatches.count == 0, "mismatches, e.g. \(mismatches.prefix(3))")
    }

    @Test("property: available(now:) is the number of back-to-back takes that succeed")
    func availableCountsTheTakes() {
        var rng = SplitMix64(seed: 1515)
        for _ in 0..<300 {
            let rate = Double.random(in: 0.5...1_000, using: &rng)
            let burst = Int.random(in: 1...600, using: &rng)
            var bucket = LeakyBucket(ratePerSecond: rate, burst: burst)
            let start = Double.random(in: 0...10_000, using: &rng)
            let times = (0..<40).map { _ in start + Double.random(in: 0...3, using: &rng) }.sorted()
            for now in times {
                var probe = bucket
                var takes = 0
                while takes <= burst, probe.tryTake(now: now) { takes += 1 }
                #expect(bucket.available(now: now) == takes, "rate \(rate) burst \(burst) at \(now)")
                for _ in 0..<Int.random(in: 0...burst, using: &rng) { _ = bucket.tryTake(now: now) }
            }
        }
    }

    /// Clients that poll on a schedule land exactly on emission boundaries, where `wait` and
    /// `tryTake` round `theoreticalArrival - tolerance - now` and `start - now` differently.
    @Test("property: wait(now:) is 0 exactly when a take would succeed (instants on the emission grid)")
    func waitMatchesTryTakeOnGrid() {
        var rng = SplitMix64(seed: 4243)
        var mismatches: [String] = []
        var probes = 0
        for _ in 0..<300 {
            let rate = Double.random(in: 0.5...100, using: &rng)
            let burst = Int.random(in: 1...8, using: &rng)
            var bucket = LeakyBucket(ratePerSecond: rate, burst: burst)
            let times = Self.pollTimes(&rng, start: Double.random(in: 0...10_000, using: &rng), window: 5,
                                       interval: 1 / rate, count: 100)
            for now in times {
                let wait = bucket.wait(now: now)
                var probe = bucket
                let wouldTake = probe.tryTake(now: now)
                probes += 1
                if (wait == 0) != wouldTake { mismatches.append("now \(now) wait \(wait) take \(wouldTake) rate \(rate) burst \(burst)") }
                if rng.bool(0.7) { _ = bucket.tryTake(now: now) }
            }
        }
        #expect(mismatches.count == 0, "of \(probes) probes disagree, e.g. \(mismatches.prefix(3))")
    }

    @Test("a failed take does not change the bucket")
    func failedTakeIsFree() {
        var bucket = LeakyBucket(ratePerSecond: 1, burst: 1)
        #expect(Self.takes(&bucket, at: [50]) == [true])
        let before = bucket
        #expect(Self.takes(&bucket, at: Array(stride(from: 50.0, to: 50.99, by: 0.1))).allSatisfy { !$0 })
        #expect(bucket == before)
        #expect(Self.takes(&bucket, at: [51]) == [true])
    }
}
