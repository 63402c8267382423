import FlashSaleCore

/// Failures the simulator injects into `POST /v1/charges` (and in-process `charge`), so the
/// shop's handling of slow, failing and silent providers can be exercised. Lookups, refunds
/// and the ledger are never faulted: they are how the shop recovers.
public struct Faults: Sendable, Equatable {
    /// Slept before each charge is processed.
    public var latencyMs: Int
    /// Share of charges answered 503 before anything is charged (0…1).
    public var failRate: Double
    /// Share of charges that are made but never answered (0…1).
    public var timeoutRate: Double
    /// Seed of the fault dice; the same seed and the same sequence of charges give the same
    /// faults. Nil: a random seed.
    public var seed: UInt64?

    public init(latencyMs: Int = 0, failRate: Double = 0, timeoutRate: Double = 0, seed: UInt64? = nil) {
        self.latencyMs = latencyMs
        self.failRate = failRate
        self.timeoutRate = timeoutRate
        self.seed = seed
    }

    /// No faults at all.
    public static let none = Faults()

    /// Every problem with these settings, as flag-style sentences; empty when they are usable.
    public func problems() -> [String] {
        var problems: [String] = []
        if latencyMs < 0 { problems.append("latency-ms must be 0 or more") }
        if !(0...1).contains(failRate) { problems.append("fail-rate must be between 0 and 1") }
        if !(0...1).contains(timeoutRate) { problems.append("timeout-rate must be between 0 and 1") }
        return problems
    }
}

/// What the dice decided for one charge attempt.
enum FaultDecision: Equatable {
    case none
    /// Answer 503 without charging.
    case fail
    /// Charge, then withhold the answer.
    case timeout
}

/// Rolls the fault dice for each charge attempt.
struct FaultDice {
    let faults: Faults
    private var generator: SplitMix64

    init(_ faults: Faults) {
        self.faults = faults
        generator = SplitMix64(seed: faults.seed ?? UInt64.random(in: .min ... .max))
    }

    /// Two rolls every time, whatever the rates, so one attempt's decision does not shift
    /// the dice of the attempts after it.
    mutating func roll() -> FaultDecision {
        let failRoll = Double.random(in: 0..<1, using: &generator)
        let timeoutRoll = Double.random(in: 0..<1, using: &generator)
        if failRoll < faults.failRate { return .fail }
        if timeoutRoll < faults.timeoutRate { return .timeout }
        return .none
    }
}
