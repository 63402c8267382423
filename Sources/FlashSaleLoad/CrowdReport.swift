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
    public var fairness: Fairness
    public var tooManyRequests: Int
    public var serverErrors: Int
    /// Transport errors, 5xx and answers outside the contract (a 404 on payment included).
    public var errors: Int
    public var paidOrdersSeen: Int
    public var stats: ShopWire.Stats?
    public var ledger: LedgerSummary?
    public var checks: [CheckResult]

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
        saleID: String, quantity: Int, shoppers: Int, durationSeconds: Double, outcomes: [String: Int],
        endpoints: [EndpointSummary], admissionTimes: [Double], fairness: Fairness, paidOrdersSeen: Int, errors: Int,
        stats: ShopWire.Stats?, ledger: LedgerSummary?, checks: [CheckResult]
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
        self.fairness = fairness
        tooManyRequests = endpoints.reduce(0) { sum, e in sum + e.count { $0 == 429 } }
        serverErrors = endpoints.reduce(0) { sum, e in sum + e.count { $0 >= 500 } }
        self.errors = errors
        self.paidOrdersSeen = paidOrdersSeen
        self.stats = stats
        self.ledger = ledger
        self.checks = checks
        passed = checks.allSatisfy { $0.passed != false }
    }
}
