import Foundation

extension CrowdReport {
    /// The report as printed at the end of `flashsale crowd`.
    public var text: String {
        var lines: [String] = []
        lines.append("sale \(saleID): \(quantity) units, \(shoppers) shoppers, \(format(durationSeconds, 1)) s")
        lines.append("outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        lines.append("")
        lines.append(pad("endpoint", 9) + pad("requests", 10, right: true) + pad("p50 ms", 9, right: true)
            + pad("p90 ms", 9, right: true) + pad("p99 ms", 9, right: true) + pad("max ms", 9, right: true) + "  statuses")
        for e in endpoints {
            let statuses = e.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }
                + (e.transportErrors > 0 ? ["no answer×\(e.transportErrors)"] : [])
            lines.append(
                pad(e.endpoint, 9) + pad("\(e.requests)", 10, right: true) + pad(format(e.p50Ms, 1), 9, right: true)
                    + pad(format(e.p90Ms, 1), 9, right: true) + pad(format(e.p99Ms, 1), 9, right: true)
                    + pad(format(e.maxMs, 1), 9, right: true) + "  " + statuses.joined(separator: " "))
        }
        lines.append(
            "requests/s \(format(requestsPerSecond, 0)); 429s \(tooManyRequests); 5xx \(serverErrors); errors \(errors)"
                + (connectionFailures > 0 ? "; connection failures \(connectionFailures) (sent on to the next node)" : ""))
        lines.append("admissions/s: " + (admissionsPerSecond.isEmpty ? "none" : admissionsPerSecond.map(String.init).joined(separator: " ")))
        lines.append("admissions/s: |\(Self.sparkline(admissionsPerSecond))|")
        lines.append(
            admissionFlow.windows == 0
                ? "admission flow: no whole 5 s window before the stock was spoken for"
                : String(
                    format: "admission flow: %d windows of 5 s while the stock lasted, %.0f%%–%.0f%% of %d/s",
                    admissionFlow.windows, 100 * admissionFlow.lowestShare, 100 * admissionFlow.highestShare, admissionRate))
        lines.append(
            "fairness: \(format(fairness.inOrderShare * 100, 2)) % of \(fairness.pairs) arrival-ordered pairs admitted in order "
                + "(arrivals more than \(format(fairness.arrivalResolutionSeconds, 1)) s apart; "
                + "\(fairness.inverted) inverted by more than the earlier one's poll interval, at least "
                + "\(format(fairness.toleranceSeconds, 2)) s)")
        if let stats {
            lines.append(
                "server stats: available \(stats.available), reserved \(stats.reserved), sold \(stats.sold)"
                    + (stats.orders.map { ", orders \($0)" } ?? "") + "; paid orders seen by the crowd \(paidOrdersSeen)")
        }
        lines.append(contentsOf: botDefenceLines)
        lines.append("")
        for check in checks {
            let verdict = check.passed.map { $0 ? "PASS" : "FAIL" } ?? "SKIP"
            lines.append("\(verdict) \(check.name): \(check.detail)")
        }
        lines.append(passed ? "all correctness checks passed" : "CORRECTNESS CHECK FAILED")
        return lines.joined(separator: "\n")
    }

    /// Proof of work, the honest shoppers' share and the farm's, when there were any.
    private var botDefenceLines: [String] {
        var lines: [String] = []
        let bits = { (counts: [String: Int]) in
            counts.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.map { "\($0.key) bits×\($0.value)" }.joined(separator: " ")
        }
        if let work = proofOfWork {
            lines.append(
                "honest proof of work: \(work.count) solves, hashing median \(format(work.hashingMedianMs, 0)) ms, "
                    + "p95 \(format(work.hashingP95Ms, 0)) ms; with the wait for the crowd's solver threads median "
                    + "\(format(work.medianMs, 0)) ms, p95 \(format(work.p95Ms, 0)) ms, max \(format(work.maxMs, 0)) ms; \(bits(work.byBits))")
        }
        if let honest {
            var line =
                "honest shoppers: \(honest.unitsBought) units for \(honest.shoppers) shoppers "
                + "(\(format(honest.successRate * 100, 1)) %); 429s \(honest.tooManyRequests); 5xx \(honest.serverErrors)"
            if let nat = honest.natSuccessRate {
                line +=
                    "; NAT \(honest.natShoppers) shoppers \(format(nat * 100, 1)) % vs others \(format(honest.otherSuccessRate * 100, 1)) %"
                    + " (ratio \(honest.natRatio.map { format($0, 2) } ?? "n/a"))"
            }
            lines.append(line)
        }
        if let farm {
            lines.append(
                "farm: \(farm.addresses) addresses, \(farm.passesAsked) passes asked, \(farm.passesObtained) obtained, "
                    + "\(farm.admitted) admitted, \(farm.reservations) reservations, \(farm.unitsBought) units bought")
            lines.append(
                "farm challenges: " + (farm.challengesByBits.isEmpty ? "none" : bits(farm.challengesByBits))
                    + "; \(farm.challengesSolved) solved")
            lines.append("farm outcomes: " + farm.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            lines.append(
                "farm requests: " + farm.endpoints.map { e in
                    "\(e.endpoint) " + e.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
                }.joined(separator: "; ") + "; errors \(farm.errors)")
        }
        return lines
    }

    private func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(width - text.count, 0))
        return right ? fill + text : text + fill
    }
}

extension LiveSnapshot {
    /// The progress line: elapsed time, where the shoppers are, request rate, errors.
    public func line(elapsed: Double, requestsPerSecond: Double) -> String {
        String(
            format: "%6.1f s  waiting %6d  admitted %6d  reserved %6d  paid %6d  %7.0f req/s  errors %d",
            elapsed, waiting, admitted, reserved, paid, requestsPerSecond, errors)
    }
}
