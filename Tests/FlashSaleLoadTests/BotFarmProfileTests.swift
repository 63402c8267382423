import FlashSaleCore
import Foundation
import Testing

@testable import FlashSaleLoad

/// The farm's disguise, the crowd's address plan and the solver, without a server.
struct BotFarmProfileTests {
    // MARK: Jigging

    @Test func jigsSpellOneDoorManyWaysAndTheShopSeesOneDoor() {
        var g = SplitMix64(seed: 7)
        let drop = FarmDisguise.dropAddresses(3)[1]
        let door = CustomerKey.address(line1: "\(drop.house) \(drop.street) Street Apt \(drop.apartment)", postalCode: drop.postalCode, country: "US")
        var designators = Set<String>()
        var suffixes = Set<String>()
        var spellings = Set<String>()
        for _ in 0..<200 {
            let line = FarmDisguise.jig(drop, using: &g)
            spellings.insert(line)
            let words = line.split(separator: " ").map(String.init)
            // Junk first (letter, letter, digit), then the same house, street and apartment.
            #expect(words[0].count == 3 && words[0].first!.isLetter && words[0].last!.isNumber, "\(line)")
            #expect(words[1] == String(drop.house) && words[2] == drop.street, "\(line)")
            #expect(line.hasSuffix(" \(drop.apartment)") || line.hasSuffix("#\(drop.apartment)"), "\(line)")
            suffixes.insert(words[3])
            designators.insert(line.contains("#") ? "#" : line.contains("Unit") ? "Unit" : line.contains("Apt") ? "Apt" : words[4])
            #expect(CustomerKey.address(line1: line, postalCode: drop.postalCode, country: drop.country) == door, "\(line)")
        }
        // The three spelling families of the apartment, and of the street.
        #expect(designators.isSuperset(of: ["Apt", "Unit", "#"]), "\(designators)")
        #expect(suffixes.isSuperset(of: ["Street", "St", "Str"]), "\(suffixes)")
        #expect(spellings.count > 150)
    }

    @Test func dropAddressesAreDistinctDoorsInDistinctBuildings() {
        let drops = FarmDisguise.dropAddresses(8)
        let doors = Set(
            drops.map { CustomerKey.address(line1: "\($0.house) \($0.street) St #\($0.apartment)", postalCode: $0.postalCode, country: "US") })
        let buildings = Set(drops.map { PostalAddress(line1: "\($0.house) \($0.street) St", postalCode: $0.postalCode, country: "US").buildingKey })
        #expect(doors.count == 8 && buildings.count == 8)
    }

    // MARK: Cards and emails

    @Test func freshCardsAreValidNeverATestCardAndNeverRepeat() {
        var g = SplitMix64(seed: 3)
        let cards = (0..<5_000).map { _ in FarmDisguise.freshCard(using: &g) }
        for card in cards {
            #expect(card.count == 16 && CardDetails.isWellFormedNumber(card) && CardDetails.luhnValid(card), "\(card)")
            #expect(!TestCard.allCases.map(\.rawValue).contains(card) && card.hasPrefix("45"), "\(card)")
        }
        #expect(Set(cards).count == cards.count)
        // Honest shoppers' cards start with 42: the farm never shares one with them.
        #expect(!cards.contains(CardDetails.withCheckDigit("42" + String(format: "%013d", 17))))
    }

    @Test func freshEmailsAreValidAtAFreshDomainEachTime() throws {
        var g = SplitMix64(seed: 5)
        let emails = (0..<1_000).map { _ in FarmDisguise.freshEmail(using: &g) }
        let domains = emails.map { $0.split(separator: "@").last.map(String.init) ?? "" }
        #expect(Set(domains).count == emails.count)
        for email in emails { #expect(email.wholeMatch(of: /buyer[0-9]+@[a-z]{10}\.example/) != nil, "\(email)") }
    }

    // MARK: Addresses

    @Test func honestShoppersGetDistinctAddressesInDistinctNetworks() {
        let plan = CrowdAddresses(shoppers: 70_000, natShoppers: 0, farmAddresses: 0)
        let addresses = (0..<70_000).map(plan.shopper)
        #expect(Set(addresses).count == addresses.count)
        let networks = addresses.prefix(65_536).map { $0.split(separator: ".").prefix(3).joined(separator: ".") }
        #expect(Set(networks).count == networks.count)
        for address in addresses.prefix(1_000) {
            let octets = address.split(separator: ".").compactMap { Int($0) }
            #expect(octets.count == 4 && octets[0] == 10 && (1...254).contains(octets[3]), "\(address)")
        }
        // Neighbours in arrival order land far apart, not in adjacent /24s.
        #expect(addresses[0].split(separator: ".")[1] != addresses[1].split(separator: ".")[1])
    }

    @Test func natShoppersShareOneAddressSpreadOverTheCrowd() {
        let plan = CrowdAddresses(shoppers: 500, natShoppers: 50, farmAddresses: 20)
        let nat = (0..<500).filter(plan.isNAT)
        #expect(nat.count == 50)
        #expect(Set(nat.map(plan.shopper)) == [CrowdAddresses.nat])
        // Evenly spread: one in every ten, across arrivals.
        #expect(nat.first! < 10 && nat.last! >= 490)
        let others = (0..<500).filter { !plan.isNAT($0) }.map(plan.shopper)
        #expect(Set(others).count == 450 && !others.contains(CrowdAddresses.nat))
        #expect(others.allSatisfy { $0.hasPrefix("10.") })
    }

    @Test func theFarmSitsInOneNetworkRoundRobin() {
        let plan = CrowdAddresses(shoppers: 500, natShoppers: 50, farmAddresses: 20)
        let farm = (0..<1_000).map(plan.farm)
        #expect(Set(farm).count == 20)
        #expect(farm.allSatisfy { $0.hasPrefix("203.0.113.") })
        #expect(farm[0] == "203.0.113.1" && farm[19] == "203.0.113.20" && farm[20] == "203.0.113.1")
        #expect(Dictionary(farm.map { ($0, 1) }, uniquingKeysWith: +).values.allSatisfy { $0 == 50 })
    }

    @Test func farmJoinsArePacedAroundTheOpening() {
        var profile = FarmProfile()
        profile.joins = 1_000
        #expect(profile.joinOffset(0) == -1)
        #expect(abs(profile.joinOffset(999) - 1.997) < 1e-9)
    }

    @Test func theFarmNeedsForwardedAddresses() {
        var config = CrowdConfig(baseURL: "http://x", adminToken: "t", shoppers: 10)
        #expect(config.problem == nil)
        config.farm.addresses = 20
        #expect(config.problem != nil)
        config.forwardedAddresses = true
        #expect(config.problem == nil)
        config.natShoppers = 11
        #expect(config.problem != nil)
    }

    // MARK: Solver

    @Test func theSolverFindsProofOfWorkAnswers() async {
        let solver = ProofOfWorkSolver(threads: 2, order: .arrival)
        defer { solver.shutdown() }
        let answers = await withTaskGroup(of: (String, String?).self) { group in
            for index in 0..<8 {
                let prefix = "challenge-\(index)"
                group.addTask { (prefix, await solver.solve(prefix: prefix, difficultyBits: 10)?.nonce) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for (prefix, nonce) in answers {
            let nonce = try! #require(nonce)
            #expect(ProofOfWork.verify(prefix: prefix, nonce: nonce, difficultyBits: 10))
            #expect(nonce == ProofOfWork.solve(prefix: prefix, difficultyBits: 10))
        }
    }

    @Test func aCancelledOrShutDownSolveAnswersNil() async {
        let solver = ProofOfWorkSolver(threads: 1, order: .cheapestFirst)
        // 40 bits would take days: only cancellation ends it.
        let running = Task { await solver.solve(prefix: "p", difficultyBits: 40) }
        let waiting = Task { await solver.solve(prefix: "q", difficultyBits: 40) }
        try? await Task.sleep(for: .milliseconds(100))
        running.cancel()
        waiting.cancel()
        #expect(await running.value == nil)
        #expect(await waiting.value == nil)
        let late = Task { await solver.solve(prefix: "r", difficultyBits: 40) }
        try? await Task.sleep(for: .milliseconds(100))
        solver.shutdown()
        #expect(await late.value == nil)
        #expect(await solver.solve(prefix: "s", difficultyBits: 1) == nil)
    }

    // MARK: Report

    @Test func honestSummaryComparesTheNATWithTheOthers() {
        func shopper(nat: Bool, paid: Bool) -> ShopperResult {
            var result = ShopperResult(arrival: 0, exit: paid ? .paid : .soldOutInQueue, paidOrder: paid ? UUID().uuidString : nil)
            result.nat = nat
            return result
        }
        let results = (0..<10).map { shopper(nat: true, paid: $0 < 2) } + (0..<90).map { shopper(nat: false, paid: $0 < 30) }
        let summary = HonestSummary(results: results, tooManyRequests: 0, serverErrors: 1)
        #expect(summary.unitsBought == 32 && summary.natShoppers == 10)
        #expect(summary.successRate == 0.32)
        #expect(summary.natSuccessRate == 0.2 && abs(summary.otherSuccessRate - 1.0 / 3) < 1e-12)
        #expect(abs(summary.natRatio! - 0.6) < 1e-12)
    }

    @Test func solveTimesTakeNearestRankPercentiles() throws {
        let times = try #require(
            SolveTimes(
                bits: Array(repeating: 16, count: 20), seconds: (1...20).map { Double($0) / 100 },
                hashingSeconds: (1...20).map { Double($0) / 1_000 }))
        #expect(times.count == 20 && times.medianMs == 100 && abs(times.p95Ms - 190) < 1e-9 && abs(times.maxMs - 200) < 1e-9)
        #expect(abs(times.hashingMedianMs - 10) < 1e-9 && abs(times.hashingP95Ms - 19) < 1e-9)
        #expect(times.byBits == ["16": 20])
        #expect(SolveTimes(bits: [], seconds: [], hashingSeconds: []) == nil)
    }
}
