import Foundation

/// The honest shoppers' proof-of-work solves. `hashing*` is the time a solver thread
/// hashed: what a shopper's own device adds to the join (plus one round trip). The other
/// figures are wall clock from the challenge's answer to the re-join going out on the
/// crowd's machine, so the time a solve waited for one of the crowd's solver threads
/// (a few threads standing in for every shopper's device) counts there too.
public struct SolveTimes: Sendable, Codable, Equatable {
    public var count: Int
    public var hashingMedianMs: Double
    public var hashingP95Ms: Double
    public var medianMs: Double
    public var p95Ms: Double
    public var maxMs: Double
    /// Challenges by `difficulty_bits` (keys are the bits as text).
    public var byBits: [String: Int]

    /// Nil when there was no solve.
    public init?(bits: [Int], seconds: [Double], hashingSeconds: [Double]) {
        guard !seconds.isEmpty else { return nil }
        func rank(_ values: [Double], _ q: Double) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))] * 1_000
        }
        count = seconds.count
        hashingMedianMs = rank(hashingSeconds, 0.5)
        hashingP95Ms = rank(hashingSeconds, 0.95)
        medianMs = rank(seconds, 0.5)
        p95Ms = rank(seconds, 0.95)
        maxMs = (seconds.max() ?? 0) * 1_000
        byBits = Dictionary(bits.map { (String($0), 1) }, uniquingKeysWith: +)
    }
}

/// The farm's side of a run (`--farm-*`): what it asked for, what it was made to pay, what
/// it got. Its requests are here and not in the report's endpoint table.
public struct FarmSummary: Sendable, Codable, Equatable {
    public var addresses: Int
    /// Passes asked for (bots), and those that got one (`waiting`, `not_started` or `admitted`).
    public var passesAsked: Int
    public var passesObtained: Int
    /// Challenges answered to the farm's joins, by `difficulty_bits` (keys as text), and
    /// how many of them its solvers solved before it stopped.
    public var challengesByBits: [String: Int]
    public var challengesSolved: Int
    public var admitted: Int
    public var reservations: Int
    /// Paid orders: units the farm bought.
    public var unitsBought: Int
    /// How each bot ended (`BotExit`), counted.
    public var outcomes: [String: Int]
    public var endpoints: [EndpointSummary]
    /// Transport errors, 5xx and answers outside the contract, of the farm's requests.
    public var errors: Int

    /// Most bits asked of one farm join; nil when it was never challenged.
    public var highestBits: Int? { challengesByBits.keys.compactMap(Int.init).max() }
}

/// The honest shoppers' share of a run with distinct addresses (`--forwarded-addresses`):
/// units per shopper, the office NAT's shoppers against the others, and what the shield
/// refused them.
public struct HonestSummary: Sendable, Codable, Equatable {
    public var shoppers: Int
    public var natShoppers: Int
    /// Paid orders of honest shoppers (one unit each).
    public var unitsBought: Int
    /// Units per honest shopper.
    public var successRate: Double
    /// Units per NAT shopper, and per other honest shopper; `natRatio` is the first over
    /// the second (nil without NAT shoppers or when the others bought nothing).
    public var natSuccessRate: Double?
    public var otherSuccessRate: Double
    public var natRatio: Double?
    /// 429s and 5xx answers to honest shoppers' requests.
    public var tooManyRequests: Int
    public var serverErrors: Int
    /// Most bits asked of one honest join; nil when none was challenged.
    public var highestBits: Int?

    init(results: [ShopperResult], tooManyRequests: Int, serverErrors: Int) {
        let nat = results.filter(\.nat)
        let others = results.filter { !$0.nat }
        func units(_ group: [ShopperResult]) -> Int { group.filter { $0.paidOrder != nil }.count }
        func rate(_ group: [ShopperResult]) -> Double { Double(units(group)) / Double(max(group.count, 1)) }
        shoppers = results.count
        natShoppers = nat.count
        unitsBought = units(results)
        successRate = rate(results)
        otherSuccessRate = rate(others)
        let natRate = nat.isEmpty ? nil : rate(nat)
        let otherRate = rate(others)
        natSuccessRate = natRate
        natRatio = natRate.flatMap { otherRate > 0 ? $0 / otherRate : nil }
        self.tooManyRequests = tooManyRequests
        self.serverErrors = serverErrors
        highestBits = results.flatMap { $0.solves.map(\.bits) }.max()
    }
}

extension FarmSummary {
    init(profile: FarmProfile, results: [BotResult], endpoints: [EndpointSummary], errors: Int) {
        addresses = profile.addresses
        passesAsked = results.count
        passesObtained = results.filter(\.gotPass).count
        challengesByBits = Dictionary(results.flatMap(\.challenges).map { (String($0), 1) }, uniquingKeysWith: +)
        challengesSolved = results.reduce(0) { $0 + $1.solved }
        admitted = results.filter { $0.admitted != nil }.count
        reservations = results.filter(\.reserved).count
        unitsBought = Set(results.compactMap(\.paidOrder)).count
        outcomes = Dictionary(results.map { ($0.exit.rawValue, 1) }, uniquingKeysWith: +)
        self.endpoints = endpoints
        self.errors = errors
    }
}
