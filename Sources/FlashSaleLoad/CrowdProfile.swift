/// How the crowd behaves: the rates at which shoppers give up at each step, how they pay,
/// and how many of them ignore the waiting room's `poll_after_ms`.
public struct CrowdProfile: Sendable, Equatable {
    /// Share of shoppers who leave the queue after a patience drawn from `patienceSeconds`.
    public var abandonQueue: Double
    public var patienceSeconds: ClosedRange<Double>
    /// Share of admitted shoppers who never reserve.
    public var abandonAdmitted: Double
    /// Share of shoppers holding a reservation who go on to pay.
    public var payShare: Double
    /// Of those who hold a reservation and do not pay, the share who cancel it (DELETE)
    /// rather than let it expire.
    public var cancelShare: Double
    /// Share of payers whose first card is declined (`4000000000000002`); they retry with
    /// a good card and a new idempotency key.
    public var declinedShare: Double
    /// Share of payers whose only card lacks funds (`4000000000009995`); they give up.
    public var insufficientShare: Double
    /// Share of clients that poll every `aggressivePollMs` whatever they are told.
    public var aggressiveShare: Double
    public var aggressivePollMs: Int
    /// Time a shopper takes between steps (filling the cart, typing the card).
    public var thinkSeconds: ClosedRange<Double>

    public init(
        abandonQueue: Double = 0.1, patienceSeconds: ClosedRange<Double> = 5...60, abandonAdmitted: Double = 0.05,
        payShare: Double = 0.9, cancelShare: Double = 0.5, declinedShare: Double = 0.08, insufficientShare: Double = 0.02,
        aggressiveShare: Double = 0.05, aggressivePollMs: Int = 100, thinkSeconds: ClosedRange<Double> = 0.1...1.0
    ) {
        self.abandonQueue = abandonQueue
        self.patienceSeconds = patienceSeconds
        self.abandonAdmitted = abandonAdmitted
        self.payShare = payShare
        self.cancelShare = cancelShare
        self.declinedShare = declinedShare
        self.insufficientShare = insufficientShare
        self.aggressiveShare = aggressiveShare
        self.aggressivePollMs = aggressivePollMs
        self.thinkSeconds = thinkSeconds
    }
}

/// The test cards of the payment provider's contract.
public enum TestCard: String, Sendable, CaseIterable, Codable {
    case succeeds = "4242424242424242"
    case declined = "4000000000000002"
    case insufficientFunds = "4000000000009995"
}

/// One shopper's choices, all drawn up front from the profile so that a seeded run replays
/// the same crowd whatever the server answers.
public struct ShopperPlan: Sendable, Equatable {
    /// Seconds after joining at which the shopper leaves the queue; nil: waits to the end.
    public var patience: Double?
    public var aggressive: Bool
    public var reserves: Bool
    public var pays: Bool
    /// Cancels the reservation when not paying (otherwise lets it expire).
    public var cancels: Bool
    /// The cards tried in turn, each with a new idempotency key, until one is accepted.
    public var cards: [TestCard]
    public var thinkSeconds: Double

    public init(
        patience: Double?, aggressive: Bool, reserves: Bool, pays: Bool, cancels: Bool, cards: [TestCard], thinkSeconds: Double
    ) {
        self.patience = patience
        self.aggressive = aggressive
        self.reserves = reserves
        self.pays = pays
        self.cancels = cancels
        self.cards = cards
        self.thinkSeconds = thinkSeconds
    }

    public static func draw<G: RandomNumberGenerator>(_ profile: CrowdProfile, using g: inout G) -> ShopperPlan {
        func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &g) < p }
        let patience = chance(profile.abandonQueue) ? Double.random(in: profile.patienceSeconds, using: &g) : nil
        let aggressive = chance(profile.aggressiveShare)
        let reserves = !chance(profile.abandonAdmitted)
        let pays = chance(profile.payShare)
        let cancels = chance(profile.cancelShare)
        let card = Double.random(in: 0..<1, using: &g)
        let cards: [TestCard] =
            card < profile.insufficientShare
            ? [.insufficientFunds]
            : card < profile.insufficientShare + profile.declinedShare ? [.declined, .succeeds] : [.succeeds]
        let think = Double.random(in: profile.thinkSeconds, using: &g)
        return ShopperPlan(
            patience: patience, aggressive: aggressive, reserves: reserves, pays: pays, cancels: cancels, cards: cards,
            thinkSeconds: think)
    }
}
