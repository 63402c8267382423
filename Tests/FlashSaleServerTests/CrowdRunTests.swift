import FlashSaleLoad
import Foundation
import Testing

extension CrowdScaleTests {
    /// A short crowd run (`flashsale crowd`'s engine) against a spawned server paying a
    /// spawned provider that withholds some answers: the whole sale as shoppers play it,
    /// failing on oversell, stranded units, a double charge or any 5xx.
    @Suite(.serialized) struct CrowdRunTests {
        @Test(.timeLimit(.minutes(10))) func aShortCrowdNeitherOversellsNorErrs() async throws {
            let provider = try await ServerProcess.startPSP(ledger: "memory", extraArguments: ["--timeout-rate", "0.1", "--seed", "9"])
            defer { provider.stop() }
            let server = try await ServerProcess.start(
                database: "sqlite::memory:", extraArguments: ["--payments", provider.baseURL, "--payment-timeout-ms", "500"])
            defer { server.stop() }
            var config = CrowdConfig(baseURL: server.baseURL, adminToken: ServerProcess.adminToken, shoppers: 300)
            config.pspURL = provider.baseURL
            config.quantity = 30
            config.ratePerSecond = 1_000
            config.startsInSeconds = 1
            // Holds expire quickly so units cycle back to the queue and the run settles fast.
            config.reservationTTLSeconds = 2
            config.connections = 32
            config.curve = ArrivalCurve(spikeShare: 0.7, spikeSeconds: 1, tailSeconds: 4)
            config.profile = CrowdProfile(
                abandonQueue: 0.2, patienceSeconds: 2...6, abandonAdmitted: 0.1, payShare: 0.7, cancelShare: 0.5,
                aggressiveShare: 0.1, aggressivePollMs: 100, thinkSeconds: 0...0.2)
            config.maxSeconds = 40
            config.seed = 42

            let report = try await CrowdRun(config).run()
            print(report.text)
            let verdicts = Dictionary(uniqueKeysWithValues: report.checks.map { ($0.name, $0.passed) })
            #expect(verdicts["oversell"] == true, "\(report.checks)")
            #expect(verdicts["undersell"] == true, "\(report.checks)")
            #expect(verdicts["double_charge"] == true, "\(report.checks)")
            #expect(report.passed)
            #expect(report.serverErrors == 0, "\(report.endpoints)")
            #expect(report.errors == 0, "\(report.endpoints)")
            #expect(report.outcomes.values.reduce(0, +) == 300)
            #expect(report.outcomes["cancelled", default: 0] + report.outcomes["let_reservation_expire", default: 0] > 0)
            let sold = try #require(report.stats?.sold)
            #expect(sold > 0 && sold + (report.stats?.available ?? 0) == 30, "\(String(describing: report.stats))")
        }
    }
}
