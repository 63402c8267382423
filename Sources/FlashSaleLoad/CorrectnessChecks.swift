/// One correctness check of the report: its verdict and the figures behind it.
public struct CheckResult: Sendable, Codable, Equatable {
    public var name: String
    /// nil when the check could not be made (no provider URL, stats unreadable).
    public var passed: Bool?
    public var detail: String
}

/// What the payment provider's ledger says, reduced to what reconciliation needs.
public struct LedgerSummary: Sendable, Codable, Equatable {
    public var succeededCharges: Int
    /// Succeeded charges that have at least one refund.
    public var refundedCharges: Int
    /// Charges refunded more than once, and refunds naming no known charge.
    public var badRefunds: Int
    /// Succeeded charges of one shop payment attempt (`reference`) beyond the first, not refunded.
    public var duplicateReferences: Int

    public init(succeededCharges: Int, refundedCharges: Int, badRefunds: Int, duplicateReferences: Int) {
        self.succeededCharges = succeededCharges
        self.refundedCharges = refundedCharges
        self.badRefunds = badRefunds
        self.duplicateReferences = duplicateReferences
    }

    /// Charges that kept the customer's money.
    public var keptCharges: Int { succeededCharges - refundedCharges }
}

/// The report's verdicts on the things a flash sale must never do, judged from the
/// server's own stats (read back after the run) and, when given, the provider's ledger.
public enum CorrectnessChecks {
    /// - Parameters:
    ///   - quantity: units the sale put on offer.
    ///   - stats: the stats after the run (and after held reservations expired, if `settled`).
    ///   - paidSeen: distinct paid orders the crowd was shown.
    ///   - settled: no reservation was held any more when the stats were read.
    public static func evaluate(
        quantity: Int, stats: ShopWire.Stats?, paidSeen: Int, settled: Bool, ledger: LedgerSummary?
    ) -> [CheckResult] {
        guard let stats else {
            return [
                CheckResult(name: "oversell", passed: nil, detail: "the stats could not be read"),
                CheckResult(name: "undersell", passed: nil, detail: "the stats could not be read"),
            ] + [ledgerCheck(ledger, sold: nil, paidSeen: paidSeen)]
        }
        let total = stats.available + stats.reserved + stats.sold
        let negative = stats.available < 0 || stats.reserved < 0 || stats.sold < 0
        var problems: [String] = []
        if stats.sold > quantity { problems.append("sold \(stats.sold) > quantity \(quantity)") }
        if paidSeen > quantity { problems.append("the crowd saw \(paidSeen) paid orders > quantity \(quantity)") }
        if total != quantity || negative {
            problems.append("available \(stats.available) + reserved \(stats.reserved) + sold \(stats.sold) != \(quantity)")
        }
        let oversell = CheckResult(
            name: "oversell", passed: problems.isEmpty,
            detail: problems.isEmpty ? "sold \(stats.sold) of \(quantity); invariant holds" : problems.joined(separator: "; "))

        // Units neither sold nor available once every hold has had time to expire.
        let stranded = quantity - stats.sold - stats.available
        let undersell = CheckResult(
            name: "undersell", passed: stranded <= 0,
            detail: stranded <= 0
                ? "every unit is sold or available again (\(stats.available) available)"
                : "\(stranded) units neither sold nor available" + (settled ? "" : " after waiting for holds to expire"))
        return [oversell, undersell, ledgerCheck(ledger, sold: stats.sold, paidSeen: paidSeen)]
    }

    static func ledgerCheck(_ ledger: LedgerSummary?, sold: Int?, paidSeen: Int) -> CheckResult {
        guard let ledger else {
            return CheckResult(name: "double_charge", passed: nil, detail: "not checked (no --psp ledger)")
        }
        var problems: [String] = []
        if ledger.badRefunds > 0 { problems.append("\(ledger.badRefunds) refunds repeat or name no charge") }
        if ledger.duplicateReferences > 0 {
            problems.append("\(ledger.duplicateReferences) payment attempts charged more than once and not refunded")
        }
        if let sold, ledger.keptCharges != sold {
            problems.append("\(ledger.keptCharges) charges kept (\(ledger.succeededCharges) succeeded − \(ledger.refundedCharges) refunded) but \(sold) units sold")
        }
        if ledger.keptCharges < paidSeen {
            problems.append("the crowd saw \(paidSeen) paid orders but only \(ledger.keptCharges) charges were kept")
        }
        return CheckResult(
            name: "double_charge", passed: problems.isEmpty,
            detail: problems.isEmpty
                ? "\(ledger.keptCharges) kept charges = \(sold.map(String.init) ?? "?") sold; \(ledger.refundedCharges) refunded"
                : problems.joined(separator: "; "))
    }
}
