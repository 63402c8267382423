import FlashSaleLoad
import FlashSaleServer
import Foundation
import Testing

extension CrowdScaleTests {
    /// Issue 10's reseller scenario in small, against a spawned server with its default shield
    /// limits: a farm of 10 addresses in one /24 asking for 300 passes around the opening
    /// (fresh emails, fresh cards, 3 jigged drop addresses, polling every 250 ms, checking out
    /// in 50 ms) against 150 honest shoppers on addresses of their own, 15 of them behind one
    /// office NAT, for 30 units at 10 admissions/s and one per customer.
    @Suite(.serialized) struct BotFarmTests {
        @Test(.timeLimit(.minutes(5))) func aResellerFarmGetsNoMoreThanItsDropAddresses() async throws {
            let defaults = ShieldSettings()
            // The shield's defaults, named so ServerProcess's raised limits for one-address crowds
            // do not apply, and the crowd's loopback address trusted as the proxy of everyone.
            let server = try await ServerProcess.start(
                database: "sqlite::memory:",
                extraArguments: [
                    "--join-limit", defaults.joins.description, "--request-limit", defaults.requests.description,
                    "--checkout-limit", defaults.checkout.description,
                    "--max-connections-per-client", String(defaults.maxConnectionsPerClient), "--trusted-proxy", "127.0.0.1/32",
                ])
            defer { server.stop() }
            var config = CrowdConfig(baseURL: server.baseURL, adminToken: ServerProcess.adminToken, shoppers: 150)
            config.quantity = 30
            config.ratePerSecond = 10
            config.startsInSeconds = 3
            config.reservationTTLSeconds = 15
            config.connections = 64
            config.curve = ArrivalCurve(spikeShare: 0.7, spikeSeconds: 2, tailSeconds: 10)
            // People: seconds per checkout step (shorter than the 2–6 s to keep the test short).
            config.profile = CrowdProfile(patienceSeconds: 20...60, thinkSeconds: 1...3)
            config.forwardedAddresses = true
            config.natShoppers = 15
            config.farm.addresses = 10
            config.farm.joins = 300
            // Generous: under a loaded CI machine the last units come back from expired holds late.
            config.maxSeconds = 90
            config.seed = 10

            let started = ContinuousClock.now
            let report = try await CrowdRun(config).run()
            print(report.text)
            print("bot farm run took \(ContinuousClock.now - started)")

            let farm = try #require(report.farm)
            let honest = try #require(report.honest)
            // The per-customer limit sees through the jig: at most one unit per drop door, 3 of
            // 30 (10 %; the 5 of 100 is the same door count on a larger sale).
            #expect(farm.unitsBought <= config.farm.dropAddresses, "\(farm.outcomes)")
            #expect(farm.passesAsked == 300)
            // The 90 of 100 is measured at full size (BENCHMARKS.md); here, with a few of
            // the 30 units possibly still on their way back from an expired hold at the end, 80%.
            #expect(honest.unitsBought * 10 >= config.quantity * 8, "\(report.outcomes)")
            let natRatio = try #require(honest.natRatio)
            #expect(natRatio >= 0.6, "NAT \(String(describing: honest.natSuccessRate)) vs \(honest.otherSuccessRate)")
            #expect(honest.tooManyRequests == 0 && honest.serverErrors == 0, "\(report.endpoints)")
            let verdicts = Dictionary(uniqueKeysWithValues: report.checks.map { ($0.name, $0.passed) })
            #expect(verdicts["oversell"] == true, "\(report.checks)")
            // The farm's joins cost more work than any honest shopper's.
            let farmBits = try #require(farm.highestBits)
            #expect(farmBits > (honest.highestBits ?? 0), "farm \(farm.challengesByBits), honest \(String(describing: report.proofOfWork))")
        }
    }
}
