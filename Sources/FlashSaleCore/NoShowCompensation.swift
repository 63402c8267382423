import Foundation

/// How many admitted shoppers may hold nothing yet, learnt from this sale's own no-shows
/// (issue 13 §1).
///
/// Admitting only as many shoppers as there are units is exact while everyone buys, but an
/// admitted shopper who walks away holds a unit's worth of admission until the pass
/// expires, and the line stalls behind them. Hosted waiting rooms compensate with a
/// no-show factor; this one learns it: the share of admitted shoppers who reserved, among
/// admissions old enough to have decided, and allows `1 / share` undecided admissions per
/// available unit, from 1.0 (before anything is known, nobody is admitted beyond the stock)
/// up to `maxFactor`. An admission past the decision time that has not reserved counts as
/// a no-show: it holds no place, so the last units are not held up for a pass lifetime by
/// shoppers who walked away (one who comes back late may find them gone).
///
/// Admissions are kept per whole second of the caller's monotonic clock for one pass
/// lifetime; a reservation marks one admission of its second converted. Pure and
/// O(seconds of a pass lifetime) in memory; a question costs O(seconds of the decision
/// time): the window's totals are kept as it changes, and only the undecided tail is read.
public struct NoShowCompensation: Sendable {
    /// The most pending admissions allowed per available unit (`--admission-stock-factor`;
    /// 3 is a 1-in-3 conversion).
    public let maxFactor: Double
    public static let defaultMaxFactor = 3.0
    /// An admission younger than this has not decided yet (seconds), however fast the
    /// shoppers who did reserve were: a person needs some seconds to fill a form.
    public static let minimumDecisionSeconds = 10.0
    /// Pseudo-admissions that reserved, counted before any real one: the estimate starts at
    /// a conversion of 1 and a handful of early no-shows cannot swing it far.
    public static let prior = 5.0

    private var seconds: [(second: Int64, admitted: Int, converted: Int)] = []
    /// Admissions that left the window (their pass lifetime ended), and how many of them
    /// reserved: the decided history.
    private var expiredAdmitted = 0
    private var expiredConverted = 0
    /// Totals over `seconds` (the live window).
    private var liveAdmitted = 0
    private var liveConverted = 0
    /// Mean seconds from admission to reservation, over every conversion seen.
    private var delaySum = 0.0
    private var delayCount = 0

    public init(maxFactor: Double = Self.defaultMaxFactor) {
        self.maxFactor = max(1, maxFactor)
    }

    /// Admitted shoppers of the live window who have not reserved (decided or not).
    public var pending: Int { liveAdmitted - liveConverted }

    /// Admitted shoppers still deciding: admitted within the decision time, not reserved.
    public func undecided(at monotonic: Double, lifetime: Double) -> Int {
        let tail = undecidedTail(at: monotonic, lifetime: lifetime)
        return tail.admitted - tail.converted
    }

    /// Admissions (and their conversions) newer than the decision time: the window's tail.
    private func undecidedTail(at monotonic: Double, lifetime: Double) -> (admitted: Int, converted: Int) {
        let decidedBy = Int64((monotonic - decisionSeconds(lifetime: lifetime)).rounded(.down))
        var tail = (admitted: 0, converted: 0)
        for entry in seconds.reversed() {
            if entry.second <= decidedBy { break }
            tail.admitted += entry.admitted
            tail.converted += entry.converted
        }
        return tail
    }

    public mutating func admitted(at monotonic: Double) {
        let second = Int64(monotonic.rounded(.down))
        if seconds.last?.second == second {
            seconds[seconds.count - 1].admitted += 1
        } else {
            seconds.append((second, 1, 0))
        }
        liveAdmitted += 1
    }

    /// A shopper admitted `delay` seconds before `monotonic` reserved. A conversion whose
    /// second is not held here (admitted by another node, or before the window) counts
    /// against the oldest second with an unconverted admission: nodes share the sale's
    /// reservations about as they share its admissions.
    public mutating func converted(at monotonic: Double, delay: Double) {
        let second = Int64((monotonic - max(0, delay)).rounded(.down))
        let index =
            seconds.lastIndex { $0.second == second && $0.converted < $0.admitted }
            ?? seconds.firstIndex { $0.converted < $0.admitted }
        guard let index else { return }
        seconds[index].converted += 1
        liveConverted += 1
        delaySum += max(0, delay)
        delayCount += 1
    }

    /// Forgets admissions older than `lifetime` seconds (their passes have expired).
    public mutating func expire(at monotonic: Double, lifetime: Double) {
        let horizon = Int64((monotonic - lifetime).rounded(.down))
        let stale = seconds.prefix { $0.second <= horizon }
        guard !stale.isEmpty else { return }
        for entry in stale {
            expiredAdmitted += entry.admitted
            expiredConverted += entry.converted
            liveAdmitted -= entry.admitted
            liveConverted -= entry.converted
        }
        seconds.removeFirst(stale.count)
    }

    /// Seconds after which an admission counts as decided: twice the mean delay of those
    /// who reserved, at least `minimumDecisionSeconds`, at most the pass lifetime.
    public func decisionSeconds(lifetime: Double) -> Double {
        let mean = delayCount == 0 ? 0 : delaySum / Double(delayCount)
        return min(lifetime, max(Self.minimumDecisionSeconds, 2 * mean))
    }

    /// The share of decided admissions that reserved, with the prior.
    public func conversion(at monotonic: Double, lifetime: Double) -> Double {
        conversion(excluding: undecidedTail(at: monotonic, lifetime: lifetime))
    }

    /// Decided admissions: the expired ones, and the live window less its undecided tail.
    private func conversion(excluding tail: (admitted: Int, converted: Int)) -> Double {
        let admitted = Double(expiredAdmitted + liveAdmitted - tail.admitted)
        let converted = Double(expiredConverted + liveConverted - tail.converted)
        return (converted + Self.prior) / (admitted + Self.prior)
    }

    /// Pending admissions allowed per available unit: 1 / conversion, within 1…`maxFactor`.
    public func factor(at monotonic: Double, lifetime: Double) -> Double {
        factor(excluding: undecidedTail(at: monotonic, lifetime: lifetime))
    }

    private func factor(excluding tail: (admitted: Int, converted: Int)) -> Double {
        min(maxFactor, max(1, 1 / conversion(excluding: tail)))
    }

    /// Whether one more admission fits: undecided admissions stay under the factor times
    /// the units available (this node's share of them).
    public func allowsAnother(available: Double, at monotonic: Double, lifetime: Double) -> Bool {
        guard available > 0 else { return false }
        let tail = undecidedTail(at: monotonic, lifetime: lifetime)
        return Double(tail.admitted - tail.converted) < factor(excluding: tail) * available
    }
}
