import FlashSaleCore
import Foundation
import Testing

@Suite("Risk score and proof-of-work levels (issue 10)")
struct RiskScoreTests {
    let levels = ChallengeLevels.standard

    func joinLevel(address: Double, network: Double, headers: Bool = false) -> Int {
        levels.level(for: RiskScore.join(JoinSignals(addressJoins: address, networkJoins: network, automationHeaders: headers)).total)
    }

    @Test("an honest first join from a quiet address pays nothing")
    func quietJoin() {
        #expect(joinLevel(address: 1, network: 1) == 0)
        // Many addresses of one network joining once each (a carrier's NAT pool).
        #expect(joinLevel(address: 1, network: 1_000) == 0)
    }

    @Test("an office NAT pays a little; a farm pays more with every doubling")
    func natAndFarm() {
        let nat = joinLevel(address: 50, network: 50)
        #expect((1...2).contains(nat))
        // 20 farm addresses in one /24, 50 joins each by the end.
        let farmLate = joinLevel(address: 50, network: 1_000)
        #expect(farmLate >= 5)
        #expect(levels.difficultyBits(level: farmLate) >= 25)
        var previous = 0
        for k in stride(from: 1.0, through: 50, by: 1) {
            let level = joinLevel(address: k, network: 20 * k)
            #expect(level >= previous, "the farm's level never falls as it joins more")
            previous = level
        }
    }

    @Test("automation headers alone ask no work but tip a busy address; the sale's load adds at most two")
    func headersAndLoad() {
        #expect(joinLevel(address: 1, network: 1, headers: true) == 0)
        #expect(joinLevel(address: 12, network: 12, headers: true) == joinLevel(address: 12, network: 12) + 1)
        let quietInACrowd = RiskScore.join(JoinSignals(addressJoins: 1, networkJoins: 1, saleJoinsPerSecond: 1e9, admissionRatePerSecond: 25))
        #expect(quietInACrowd.total == 0, "a first join from a quiet address never pays, however busy the sale")
        let headless = RiskScore.join(
            JoinSignals(addressJoins: 1, networkJoins: 1, automationHeaders: true, saleJoinsPerSecond: 1e9, admissionRatePerSecond: 1))
        #expect(headless.total == RiskWeights().automationHeaders, "nor does a quiet client without a User-Agent in a crowd")
        let busyAddress = JoinSignals(addressJoins: 12, networkJoins: 12, saleJoinsPerSecond: 1e9, admissionRatePerSecond: 25)
        let calm = JoinSignals(addressJoins: 12, networkJoins: 12, saleJoinsPerSecond: 0, admissionRatePerSecond: 25)
        #expect(RiskScore.join(busyAddress).total - RiskScore.join(calm).total == RiskWeights().saleLoadMax)
        let busy = RiskScore.join(JoinSignals(addressJoins: 1, networkJoins: 1, saleJoinsPerSecond: 400, admissionRatePerSecond: 25))
        #expect(busy.total == 0, "16× the admission rate is a normal opening")
    }

    @Test("every signal's points are monotone in its count", arguments: [1.0, 2, 8, 9, 64, 65, 500, 10_000])
    func monotone(count: Double) {
        let a = RiskScore.join(JoinSignals(addressJoins: count, networkJoins: count)).total
        let b = RiskScore.join(JoinSignals(addressJoins: count + 1, networkJoins: count + 1)).total
        #expect(b >= a)
    }

    @Test("a human checkout raises no flag; a reseller's does, with reasons")
    func paymentFlags() {
        let human = RiskScore.payment(PaymentSignals(secondsToReserve: 4, secondsToPay: 40))
        #expect(human.total == 0 && human.flags().isEmpty)
        let apiClient = RiskScore.payment(PaymentSignals(secondsToReserve: 0.05, secondsToPay: 0.2))
        #expect(apiClient.flags().isEmpty, "a fast API client alone stays below the threshold")
        let reseller = RiskScore.payment(
            PaymentSignals(secondsToReserve: 0.05, secondsToPay: 0.1, otherCustomersInBuilding: 6, ordersFromNetwork: 10))
        #expect(reseller.flags() == ["address_cluster", "address_farm", "fast_checkout"])
        let card = RiskScore.payment(PaymentSignals(secondsToReserve: nil, secondsToPay: 60, otherCustomersOnCard: 1))
        #expect(card.flags() == ["shared_card"])
        let colleagues = RiskScore.payment(PaymentSignals(secondsToReserve: 5, secondsToPay: 60, otherCustomersAtEmailDomain: 3))
        #expect(colleagues.flags().isEmpty)
    }

    @Test("levels map whole points to levels and clamp")
    func levelMapping() {
        #expect(levels.level(for: -1) == 0 && levels.level(for: .nan) == 0 && levels.level(for: 0.99) == 0)
        #expect(levels.level(for: 1) == 1 && levels.level(for: 2.5) == 2 && levels.level(for: 99) == levels.bits.count - 1)
    }
}

@Suite("Signed proof-of-work challenges")
struct ChallengeTests {
    let signer = ChallengeSigner(secret: "s")
    let sale = UUID()
    let client: [UInt8] = [203, 0, 113, 7]

    @Test("a token round-trips and binds the sale, the address and the difficulty")
    func roundTrip() throws {
        let challenge = Challenge(saleID: sale, client: client, difficultyBits: 12, issuedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let token = signer.sign(challenge)
        #expect(token.count == 78)
        let read = try #require(signer.verify(token))
        #expect(read == challenge)
        #expect(read.isIssued(to: client) && !read.isIssued(to: [203, 0, 113, 8]))
        #expect(ChallengeSigner(secret: "other").verify(token) == nil)
        #expect(PassSigner(secret: "s").verify(token) == nil, "a challenge is never a pass")
    }

    @Test("any changed byte breaks the signature")
    func tamper() {
        let token = signer.sign(Challenge(saleID: sale, client: client, difficultyBits: 20, issuedAt: Date()))
        var bytes = Base64URL.decode(token)!
        for index in bytes.indices {
            bytes[index] ^= 0x01
            #expect(signer.verify(Base64URL.encode(bytes)) == nil)
            bytes[index] ^= 0x01
        }
        #expect(signer.verify(Base64URL.encode(bytes)) != nil)
    }

    @Test("the nonce solving the token as prefix is accepted; an unsolved one is not")
    func solve() {
        let token = signer.sign(Challenge(saleID: sale, client: client, difficultyBits: 10, issuedAt: Date()))
        let nonce = ProofOfWork.solve(prefix: token, difficultyBits: 10)
        #expect(ProofOfWork.verify(prefix: token, nonce: nonce, difficultyBits: 10))
        let wrong = (0...).lazy.map(String.init).first { !ProofOfWork.verify(prefix: token, nonce: $0, difficultyBits: 10) }!
        #expect(!ProofOfWork.verify(prefix: token, nonce: wrong, difficultyBits: 10))
    }

    @Test("a redeemed challenge cannot be redeemed again until it expires; the table stays bounded")
    func spent() {
        var spent = SpentChallenges(capacity: 3)
        var results: [Bool] = []
        results.append(spent.spend(salt: 1, expiresAt: 10, now: 0))
        results.append(spent.spend(salt: 1, expiresAt: 10, now: 5))
        results.append(spent.spend(salt: 2, expiresAt: 11, now: 5))
        results.append(spent.spend(salt: 3, expiresAt: 12, now: 5))
        results.append(spent.spend(salt: 4, expiresAt: 13, now: 5))  // a full table forgets its oldest
        #expect(results == [true, false, true, true, true])
        #expect(spent.count == 3)
        let again = spent.spend(salt: 1, expiresAt: 20, now: 10.5)
        #expect(again, "an expired entry is gone")
        for salt in UInt64(100)..<UInt64(5_000) { _ = spent.spend(salt: salt, expiresAt: 100 + Double(salt), now: 11) }
        #expect(spent.count == 3)
    }
}
