import Foundation

/// Everything a crowd run found out, printed as text at the end and written as JSON with
/// `--json` (snake_case keys).
public struct CrowdReport: Sendable, Codable {
    public var saleID: String
    public var quantity: Int
    public var shoppers: Int
    public var durationSeconds: Double
    /// How each shopper's visit ended (`paid`, `sold_out`, `gave_up`, …), counted.
    public var outcomes: [String: Int]
    public var endpoints: [EndpointSummary]
    public var requestsPerSecond: Double
    /// Admissions the crowd saw in each second after the opening (index 0: the first second).
    public var admissionsPerSecond: [Int]
    /// The sale's configured admission rate (per second).
    public var admissionRate: Int
    /// How steadily admissions flowed while the stock lasted.
    public var admissionFlow: AdmissionFlow
    public var fairness: Fairness
    public var tooManyRequests: Int
    public var serverErrors: Int
    /// Transport errors, 5xx and answers outside the contract (a 404 on payment included).
    public var errors: Int
    /// Requests a node did not take (connection refused or dropped: a dead node), each sent
    /// on to the next node (`flashsale crowd` with several `--url`).
    public var connectionFailures: Int
    /// Every reservation answered 201 to the crowd, and what became of it, oldest first.
    public var reservations: [CheckoutRecord]
    public var paidOrdersSeen: Int
    public var stats: ShopWire.Stats?
    public var ledger: LedgerSummary?
    public var checks: [CheckResult]
    /// The honest shoppers' proof-of-work solves; nil when none was challenged.
    public var proofOfWork: SolveTimes?
    /// With `--forwarded-addresses`: units per honest shopper, the NAT's against the
    /// others', and what the shield refused them. The endpoint table, 429s, 5xx and errors
    /// above are the honest shoppers' alone when a farm ran.
    public var honest: HonestSummary?
    /// The farm's side, when one ran.
    public var farm: FarmSummary?

    /// False when any correctness check failed (a check that could not be made does not fail).
    public var passed: Bool

    /// Counts admission times (seconds after the opening) per whole second; earlier ones
    /// (admitted while the sale opened) fall in the first second.
    public static func perSecond(_ times: [Double]) -> [Int] {
        guard let last = times.max() else { return [] }
        var buckets = Array(repeating: 0, count: Int(max(last, 0)) + 1)
        for time in times { buckets[Int(max(time, 0))] += 1 }
        return buckets
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public init(
        saleID: String, quantity: Int, shoppers: Int, durationSeconds: Double, admissionRate: Int, outcomes: [String: Int],
        endpoints: [EndpointSummary], admissionTimes: [Double], fairness: Fairness, paidOrdersSeen: Int, errors: Int,
        connectionFailures: Int = 0, reservations: [CheckoutRecord] = [], stats: ShopWire.Stats?, ledger: LedgerSummary?, checks: [CheckResult], proofOfWork: SolveTimes? = nil,
        honest: HonestSummary? = nil, farm: FarmSummary? = nil
    ) {
        self.saleID = saleID
        self.quantity = quantity
        self.shoppers = shoppers
        self.durationSeconds = durationSeconds
        self.outcomes = outcomes
        self.endpoints = endpoints
        let requests = endpoints.reduce(0) { $0 + $1.requests }
        requestsPerSecond = durationSeconds > 0 ? Double(requests) / durationSeconds : 0
        admissionsPerSecond = Self.perSecond(admissionTimes)
        self.admissionRate = admissionRate
        admissionFlow = AdmissionFlow(perSecond: admissionsPerSecond, rate: admissionRate, quantity: quantity)
        self.fairness = fairness
        tooManyRequests = endpoints.reduce(0) { sum, e in sum + e.count { $0 == 429 } }
        serverErrors = endpoints.reduce(0) { sum, e in sum + e.count { $0 >= 500 } }
        self.errors = errors
        self.connectionFailures = connectionFailures
        self.reservations = reservations
        self.paidOrdersSeen = paidOrdersSeen
        self.stats = stats
        self.ledger = ledger
        self.checks = checks
        self.proofOfWork = proofOfWork
        self.honest = honest
        self.farm = farm
        passed = checks.allSatisfy { $0.passed != false }
    }
}

/// One shopper's checkout as the crowd saw it: the reservation answered 201, the paid
/// order if any, and the nodes (indices of the crowd's `--url`s) that issued the shopper's
/// first pass and admitted it. Times are seconds after the opening.
public struct CheckoutRecord: Sendable, Codable, Equatable {
    public var reservationID: String
    public var reservedAt: Double
    public var admittedAt: Double?
    public var passNode: Int?
    public var admittedNode: Int?
    /// The paid order's id (`reservation:<id>` when the shop only said `already_paid`).
    public var paidOrder: String?
    public var paidAt: Double?
}

/// Admissions per sliding 5 s window, as a share of what the configured rate allows, over
/// the windows that close before as many shoppers were admitted as there are units (issue
/// 15: "while stock is available, achieved admissions within ±20% of the configured rate in
/// every 5 s window"). Past that point the stock, not the rate, decides who is let in: only
/// no-shows and returned units admit more.
public struct AdmissionFlow: Sendable, Codable, Equatable {
    public static let windowSeconds = 5
    /// Windows measured (whole seconds; one starts at every second).
    public var windows: Int
    /// The least and the most admitted in one window, divided by rate × 5 s (1 is exact).
    public var lowestShare: Double
    public var highestShare: Double

    public init(perSecond: [Int], rate: Int, quantity: Int) {
        let allowed = Double(max(rate, 1) * Self.windowSeconds)
        var cumulative = [0]
        for count in perSecond { cumulative.append(cumulative.last! + count) }
        var shares: [Double] = []
        var start = 0
        while start + Self.windowSeconds < cumulative.count, cumulative[start + Self.windowSeconds] <= quantity {
            shares.append(Double(cumulative[start + Self.windowSeconds] - cumulative[start]) / allowed)
            start += 1
        }
        windows = shares.count
        lowestShare = shares.min() ?? 0
        highestShare = shares.max() ?? 0
    }

    /// Every window within `tolerance` of the rate (0.2: ±20%); false when there was none.
    public func holds(tolerance: Double = 0.2) -> Bool {
        windows > 0 && lowestShare >= 1 - tolerance && highestShare <= 1 + tolerance
    }
}

extension CrowdReport {
    /// The per-second admissions as a line of block characters, highest second full: a
    /// reader sees at a glance whether the line flows or lurches.
    public static func sparkline(_ values: [Int]) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        guard let top = values.max(), top > 0 else { return String(repeating: " ", count: values.count) }
        return String(values.map { value in
            value == 0 ? " " : blocks[min(blocks.count - 1, (value * blocks.count - 1) / top)]
        })
    }
}
