import Foundation
import Testing

@testable import FlashSaleLoad

struct ReportTests {
    @Test func latencyPercentilesComeFromTheHistogram() {
        var latencies = EndpointLatencies()
        for ms in 1...1_000 { latencies.record(status: ms % 10 == 0 ? 503 : 200, microseconds: UInt64(ms) * 1_000) }
        latencies.recordTransportError()
        let summary = latencies.summary(.poll)
        #expect(summary.requests == 1_001)
        #expect(summary.statuses == ["200": 900, "503": 100])
        #expect(summary.transportErrors == 1)
        // Three significant digits: within 0.1 % of the exact order statistics.
        #expect(abs(summary.p50Ms - 500) <= 0.5)
        #expect(abs(summary.p90Ms - 900) <= 1)
        #expect(abs(summary.p99Ms - 990) <= 1)
        #expect(abs(summary.maxMs - 1_000) <= 1)
        #expect(summary.count { $0 >= 500 } == 100)
    }

    @Test func anEndpointWithoutAnswersReportsZeroLatency() {
        var latencies = EndpointLatencies()
        latencies.recordTransportError()
        let summary = latencies.summary(.pay)
        #expect(summary.requests == 1 && summary.p99Ms == 0 && summary.maxMs == 0)
    }

    @Test func admissionsAreCountedPerSecondFromTheOpening() {
        #expect(CrowdReport.perSecond([]) == [])
        #expect(CrowdReport.perSecond([-0.5, 0.1, 0.9, 1.0, 3.7]) == [3, 1, 0, 1])
    }

    @Test func reportTotalsAndVerdictFollowTheirParts() throws {
        let endpoints = [
            EndpointSummary(endpoint: "poll", requests: 100, statuses: ["200": 90, "429": 7, "500": 3], transportErrors: 0,
                            p50Ms: 1, p90Ms: 2, p99Ms: 3, maxMs: 4),
            EndpointSummary(endpoint: "pay", requests: 10, statuses: ["404": 8, "502": 2], transportErrors: 0,
                            p50Ms: 1, p90Ms: 2, p99Ms: 3, maxMs: 4),
        ]
        let passing = CheckResult(name: "oversell", passed: true, detail: "")
        let skipped = CheckResult(name: "double_charge", passed: nil, detail: "")
        let report = CrowdReport(
            saleID: "s", quantity: 10, shoppers: 50, durationSeconds: 11, admissionRate: 2, outcomes: ["paid": 10],
            endpoints: endpoints, admissionTimes: [0.5, 1.5], fairness: Fairness(pairs: 4, inverted: 1, toleranceSeconds: 1),
            paidOrdersSeen: 10, errors: 13, stats: nil, ledger: nil, checks: [passing, skipped])
        #expect(report.requestsPerSecond == 10)
        #expect(report.tooManyRequests == 7 && report.serverErrors == 5)
        #expect(report.fairness.inOrderShare == 0.75)
        #expect(report.passed)
        #expect(report.text.contains("SKIP double_charge"))
        #expect(!report.text.contains("connection failures"))

        // Over several nodes, requests a dead node refused are counted (and were sent on).
        let failedOver = CrowdReport(
            saleID: "s", quantity: 10, shoppers: 50, durationSeconds: 11, admissionRate: 2, outcomes: ["paid": 10],
            endpoints: endpoints, admissionTimes: [0.5, 1.5], fairness: Fairness(pairs: 4, inverted: 1, toleranceSeconds: 1),
            paidOrdersSeen: 10, errors: 13, connectionFailures: 3, stats: nil, ledger: nil, checks: [passing])
        #expect(failedOver.text.contains("connection failures 3 (sent on to the next node)"))
        #expect(failedOver.passed)

        let failing = CrowdReport(
            saleID: "s", quantity: 10, shoppers: 50, durationSeconds: 11, admissionRate: 2, outcomes: [:], endpoints: [], admissionTimes: [],
            fairness: Fairness(pairs: 0, inverted: 0, toleranceSeconds: 1), paidOrdersSeen: 0, errors: 0, stats: nil,
            ledger: nil, checks: [CheckResult(name: "oversell", passed: false, detail: "sold 11 > quantity 10")])
        #expect(!failing.passed)
        #expect(failing.text.contains("FAIL oversell"))

        let json = try JSONSerialization.jsonObject(with: CrowdReport.encoder().encode(report)) as? [String: Any]
        #expect(json?["sale_id"] as? String == "s")
        #expect(json?["passed"] as? Bool == true)
        #expect((json?["fairness"] as? [String: Any])?["in_order_share"] as? Double == 0.75)
        #expect((json?["endpoints"] as? [[String: Any]])?.first?["p99_ms"] as? Double == 3)
    }

    /// Issue 15's flow figure: only windows that close before the stock is spoken for count.
    @Test func admissionFlowMeasuresWindowsWhileTheStockLasts() {
        // 100/s configured, 1,000 units: 10 seconds of admissions, then the stock decides.
        let steady = Array(repeating: 100, count: 10) + [3, 0, 0, 1]
        let flow = AdmissionFlow(perSecond: steady, rate: 100, quantity: 1_000)
        #expect(flow.windows == 6 && flow.lowestShare == 1 && flow.highestShare == 1 && flow.holds())
        // A second with nobody let in, made up by a burst: the mean is right, the flow is not.
        let lurching = [100, 100, 0, 200, 100, 100, 100, 0, 0, 300, 0]
        let lurch = AdmissionFlow(perSecond: lurching, rate: 100, quantity: 1_000)
        #expect(lurch.lowestShare < 0.8 && !lurch.holds())
        // No whole window before the stock ran out: nothing to judge, which is not a pass.
        #expect(!AdmissionFlow(perSecond: [50, 50], rate: 100, quantity: 100).holds())
    }

    @Test func sparklineScalesToTheBusiestSecond() {
        #expect(CrowdReport.sparkline([0, 1, 4, 8]) == " ▁▄█")
        #expect(CrowdReport.sparkline([]) == "")
    }
}
