import FlashSaleCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The bot defence at the waiting room's door: each join (a request for a new pass) is
/// scored (`RiskScore.join`) from the shield's join counts, its headers and the sale's
/// load, and asked for proof of work at the level of its score (`ChallengeLevels`). A pass
/// is issued only to a join that needed no work or redeemed a solved challenge, and its
/// place in line is the moment it was issued: a farm that must work for each pass joins
/// later than the shoppers who needed none.
///
/// Nothing is kept per waiting shopper: the challenge travels signed (`ChallengeSigner`),
/// and only redeemed challenges are remembered, until they expire (`SpentChallenges`).
final class JoinChallenges: Sendable {
    static let proofHeader = HTTPField.Name("X-Queue-Proof")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    let signer: ChallengeSigner
    let levels: ChallengeLevels
    let weights: RiskWeights
    /// The highest level asked (0 turns proof of work off).
    let maxLevel: Int
    private let resolver: ClientAddressResolver
    private let limits: ClientLimits
    private let metrics: ShopMetrics
    private let logger: Logger
    private let spent = Mutex(SpentChallenges())
    private let joinRates = Mutex<[UUID: JoinRate]>([:])
    private let started = ContinuousClock.now

    /// A join's outcome at the door.
    enum Verdict {
        /// Issue a pass.
        case admitToLine
        /// Answer with this challenge.
        case challenge(Issued)
    }

    struct Issued: Sendable {
        let token: String
        let difficultyBits: Int
        let level: Int
    }

    init(
        secret: String, maxLevel: Int, joinPolicy: RatePolicy, resolver: ClientAddressResolver, limits: ClientLimits, metrics: ShopMetrics,
        logger: Logger, levels: ChallengeLevels = .standard, weights: RiskWeights = RiskWeights()
    ) {
        signer = ChallengeSigner(secret: secret)
        self.levels = levels
        self.weights = Self.scaled(weights, joins: joinPolicy)
        self.maxLevel = max(0, min(maxLevel, levels.bits.count - 1))
        self.resolver = resolver
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    /// The weights with the join thresholds scaled to the operator's `--join-limit`: the
    /// defaults suit the default burst (60 per address), and an operator who lets each
    /// address join ten times as often (a carrier-grade NAT in front of the crowd, a test
    /// crowd from one address) has said that ten times as many joins are normal.
    static func scaled(_ weights: RiskWeights, joins: RatePolicy) -> RiskWeights {
        let factor = max(1, Double(joins.burst) / Double(ShieldSettings().joins.burst))
        var scaled = weights
        scaled.addressJoinsFree *= factor
        scaled.networkJoinsFree *= factor
        return scaled
    }

    /// A join from `client` (no genuine pass): redeems a solved challenge it carries, or
    /// spends its join token (429 past the shield's limit) and scores it.
    /// - Throws: `APIError.rateLimited` past the shield's per-address join limit.
    func door(_ request: Request, context: AppRequestContext, sale: Sale, client: [UInt8], now: Date) throws(APIError) -> Verdict {
        if let level = redeem(request, sale: sale, client: client, now: now) {
            metrics.challengeSolved(level: level)
            return .admitToLine
        }
        // The token was spent when the challenge was issued, not again when it is redeemed:
        // 50 shoppers behind one NAT fit the join burst once, not twice.
        if let wait = limits.take(.joins, key: .address(client)) {
            throw .rateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        }
        let counts = limits.joinCounts(client: client)
        let signals = JoinSignals(
            addressJoins: counts.address, networkJoins: counts.network,
            automationHeaders: automationHeaders(request, context: context),
            saleJoinsPerSecond: joinRate(saleID: sale.id), admissionRatePerSecond: Double(sale.admissionRatePerSecond))
        let score = RiskScore.join(signals, weights: weights)
        let level = min(maxLevel, levels.level(for: score.total))
        metrics.joinScored(level: level)
        guard level > 0 else { return .admitToLine }
        let bits = levels.difficultyBits(level: level)
        if level >= 3 {
            logger.info(
                "join challenged", metadata: ["sale": "\(sale.id.lowercased)", "level": "\(level)", "bits": "\(bits)", "score": "\(score)"])
        }
        let challenge = Challenge(saleID: sale.id, client: client, difficultyBits: bits, issuedAt: now)
        return .challenge(Issued(token: signer.sign(challenge), difficultyBits: bits, level: level))
    }

    /// The level of a valid, solved, unspent challenge for this sale and client that the
    /// request carries (as its pass), now spent; nil otherwise.
    private func redeem(_ request: Request, sale: Sale, client: [UInt8], now: Date) -> Int? {
        // A decimal nonce (API.md): at most 20 digits, which any level's search stays within.
        guard let nonce = request.headers[Self.proofHeader], (1...20).contains(nonce.utf8.count),
            nonce.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        else { return nil }
        for token in WaitingRoom.tokens(in: request, saleID: sale.id) {
            guard let challenge = signer.verify(token), challenge.saleID == sale.id, challenge.isIssued(to: client),
                now < challenge.expiresAt, now >= challenge.issuedAt.addingTimeInterval(-5),
                ProofOfWork.verify(prefix: token, nonce: nonce, difficultyBits: challenge.difficultyBits)
            else { continue }
            let monotonic = seconds
            let fresh = spent.withLock {
                $0.spend(salt: challenge.salt, expiresAt: monotonic + challenge.expiresAt.timeIntervalSince(now), now: monotonic)
            }
            guard fresh else { return nil }
            return levels.bits.lastIndex(of: challenge.difficultyBits) ?? levels.bits.count - 1
        }
        return nil
    }

    /// Headers no browser or documented API client sends, or the lack of one they all send:
    /// no `User-Agent` (every browser, curl, and every HTTP library we document sends one), or
    /// an `X-Forwarded-For` from a peer that is not a trusted proxy (a client naming its own
    /// address, which the shield ignores).
    func automationHeaders(_ request: Request, context: AppRequestContext) -> Bool {
        let agent = request.headers[.userAgent]?.trimmingCharacters(in: .whitespaces) ?? ""
        if agent.isEmpty { return true }
        if request.headers[Self.forwardedFor] != nil, let peer = context.peerAddress, !resolver.isTrusted(IPAddress.canonical(peer)) {
            return true
        }
        return false
    }

    /// Joins per second to the sale over the last whole second (this node).
    private func joinRate(saleID: UUID) -> Double {
        let now = seconds
        return joinRates.withLock { rates in
            var rate = rates[saleID] ?? JoinRate(windowStart: now)
            let value = rate.record(now: now)
            rates[saleID] = rate
            return value
        }
    }

    private var seconds: Double { (ContinuousClock.now - started).seconds }

    /// Joins counted in one-second windows: the rate is the larger of the last whole
    /// window and the current one so far, so a sudden flood counts within its first second.
    struct JoinRate {
        var windowStart: Double
        var current = 0
        var previous = 0

        mutating func record(now: Double) -> Double {
            if now - windowStart >= 2 {
                previous = 0
                current = 0
                windowStart = now
            } else if now - windowStart >= 1 {
                previous = current
                current = 0
                windowStart += 1
            }
            current += 1
            return Double(max(previous, current))
        }
    }
}
