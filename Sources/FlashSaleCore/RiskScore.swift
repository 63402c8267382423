import Foundation

/// How much a join, a reservation or a payment looks like a bot or a reseller, from what the
/// server sees without keeping anything per waiting shopper: the shield's per-address and
/// per-network join counts, the request's headers, the times carried by a signed pass or
/// a reservation, and the keys of the sale's earlier payments.
///
/// A score is a sum of points, one term per signal; each signal has a named weight and
/// threshold (`RiskWeights`) so an operator can read why a client paid what it paid. The
/// points of repeated behaviour grow with the logarithm of the count over its threshold:
/// doubling the joins costs one more step, not twice the work, so a busy office NAT pays
/// a little and a farm that doubles and redoubles pays more each time.
public struct RiskScore: Sendable, Equatable, CustomStringConvertible {
    /// Points per signal that contributed (> 0), by the signal's name.
    public private(set) var points: [Signal: Double] = [:]

    public enum Signal: String, Sendable, CaseIterable, Comparable {
        /// Joins (passes asked for) from the client's address in the shield's window.
        case addressJoins = "address_joins"
        /// Joins from the client's network (/24, /48) while its address also joins often.
        case networkJoins = "network_joins"
        /// A header no browser or documented API client sends, or none of those they do.
        case automationHeaders = "automation_headers"
        /// The sale is joined far faster than it admits (counted only on a join whose address
        /// or network already scored).
        case saleLoad = "sale_load"
        /// Reserved sooner after admission than a person reads a page, or paid sooner
        /// after reserving than a person types a card.
        case fastCheckout = "fast_checkout"
        /// The card was used by another customer of the sale.
        case sharedCard = "shared_card"
        /// The shipping building already receives another customer's order of the sale.
        case addressCluster = "address_cluster"
        /// The email's domain is shared with other customers of the sale and is not a
        /// public mail provider.
        case emailCluster = "email_cluster"
        /// The client's network already placed several orders in the sale.
        case addressFarm = "address_farm"

        public static func < (lhs: Signal, rhs: Signal) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public init() {}

    public var total: Double { points.values.reduce(0, +) }

    /// The signals that contributed, sorted.
    public var signals: [Signal] { points.keys.sorted() }

    mutating func add(_ signal: Signal, _ value: Double) {
        guard value > 0 else { return }
        points[signal, default: 0] += value
    }

    public var description: String {
        signals.map { "\($0.rawValue)=\(String(format: "%.2f", points[$0]!))" }.joined(separator: " ")
    }

    /// log2(count / threshold) when count exceeds the threshold, else 0.
    static func steps(_ count: Double, over threshold: Double) -> Double {
        count > threshold ? log2(count / threshold) : 0
    }
}

/// The weights and thresholds of `RiskScore`, each named. Defaults are set from the
/// reseller scenario of issue 10 (a farm of 20 addresses in one /24 making 1,000 joins,
/// 50 shoppers behind one office NAT) and what people need to click through a checkout.
public struct RiskWeights: Sendable, Equatable {
    /// Joins from one address, in the shield's joins window, that cost nothing.
    /// Eight: a household or a small office joining at the opening.
    public var addressJoinsFree: Double = 8
    /// Points per doubling of an address's joins over `addressJoinsFree` (50 joins: 2.6).
    public var addressJoinsWeight: Double = 1
    /// Joins from one network (/24 or /48) that cost nothing.
    public var networkJoinsFree: Double = 64
    /// Points per doubling of a network's joins over `networkJoinsFree`, counted in full
    /// once the address itself has made `networkJoinsRamp` joins: many addresses of one
    /// network joining once each (a university, a mobile carrier's NAT pool) pay nothing,
    /// a few addresses each joining many times (a farm) pay for the whole network.
    public var networkJoinsWeight: Double = 1.5
    /// Joins of the address over which the network's points ramp in (from the 2nd).
    public var networkJoinsRamp: Double = 4
    /// Points for a request that carries automation headers: half a level, so headers alone
    /// never ask a quiet client for work (a plain API client may send no `User-Agent`), but
    /// they tip a client that also joins often.
    public var automationHeaders: Double = 0.5
    /// Joins per second, over this many times the sale's admission rate, start to cost.
    public var saleLoadFree: Double = 20
    /// Points per doubling of the sale's join rate over `saleLoadFree` × admission rate,
    /// at most `saleLoadMax`.
    public var saleLoadWeight: Double = 1
    public var saleLoadMax: Double = 2
    /// A person needs at least this long from seeing "you're in" to submitting a
    /// reservation (seconds): a page load and a click.
    public var humanReservationSeconds: Double = 1
    /// And at least this long from a reservation to a payment (seconds): typing a card
    /// number, expiry, code and an address takes tens of seconds even with autofill.
    public var humanPaymentSeconds: Double = 3
    /// Points for a checkout faster than a person (either step; counted once).
    public var fastCheckout: Double = 1
    /// Points for each other customer of the sale who used the same card.
    public var sharedCard: Double = 2
    /// Other customers of the sale shipping to one building that cost nothing (flats).
    public var addressClusterFree: Double = 2
    /// Points per other customer beyond `addressClusterFree`.
    public var addressCluster: Double = 1
    /// Other customers of the sale with emails at one non-public domain that cost nothing
    /// (colleagues at one company).
    public var emailClusterFree: Double = 3
    /// Points per other customer beyond `emailClusterFree`.
    public var emailCluster: Double = 0.5
    /// Orders of the sale from one client network that cost nothing.
    public var addressFarmFree: Double = 3
    /// Points per order beyond `addressFarmFree`.
    public var addressFarm: Double = 0.5
    /// A payment scoring this much or more is flagged for the operator's review.
    public var flagThreshold: Double = 2

    public init() {}
}

/// What a join shows: counts from the shield, headers, the sale's load.
public struct JoinSignals: Sendable, Equatable {
    /// Joins from the address in the shield's window, this one included (≥ 1).
    public var addressJoins: Double
    /// Joins from the address's network in the same window, this one included (≥ 1).
    public var networkJoins: Double
    public var automationHeaders: Bool
    /// Joins per second to the sale, and its admission rate per second.
    public var saleJoinsPerSecond: Double
    public var admissionRatePerSecond: Double

    public init(
        addressJoins: Double, networkJoins: Double, automationHeaders: Bool = false, saleJoinsPerSecond: Double = 0,
        admissionRatePerSecond: Double = 1
    ) {
        self.addressJoins = addressJoins
        self.networkJoins = networkJoins
        self.automationHeaders = automationHeaders
        self.saleJoinsPerSecond = saleJoinsPerSecond
        self.admissionRatePerSecond = admissionRatePerSecond
    }
}

/// What a payment shows: the checkout's pace and what the sale's other orders share with it.
public struct PaymentSignals: Sendable, Equatable {
    /// Seconds from admission to the reservation, when the pass told (nil: unknown).
    public var secondsToReserve: Double?
    /// Seconds from the reservation to this payment.
    public var secondsToPay: Double
    /// Other customers (emails) of the sale who paid or are paying with this card.
    public var otherCustomersOnCard: Int
    /// Other customers of the sale shipping to this building (`PostalAddress.buildingKey`).
    public var otherCustomersInBuilding: Int
    /// Other customers of the sale whose email shares this one's domain, 0 for public
    /// mail providers.
    public var otherCustomersAtEmailDomain: Int
    /// Orders of the sale already placed from the client's network.
    public var ordersFromNetwork: Int

    public init(
        secondsToReserve: Double?, secondsToPay: Double, otherCustomersOnCard: Int = 0, otherCustomersInBuilding: Int = 0,
        otherCustomersAtEmailDomain: Int = 0, ordersFromNetwork: Int = 0
    ) {
        self.secondsToReserve = secondsToReserve
        self.secondsToPay = secondsToPay
        self.otherCustomersOnCard = otherCustomersOnCard
        self.otherCustomersInBuilding = otherCustomersInBuilding
        self.otherCustomersAtEmailDomain = otherCustomersAtEmailDomain
        self.ordersFromNetwork = ordersFromNetwork
    }
}

extension RiskScore {
    /// The score of a join (a request for a new pass).
    public static func join(_ signals: JoinSignals, weights: RiskWeights = RiskWeights()) -> RiskScore {
        var score = RiskScore()
        score.add(.addressJoins, weights.addressJoinsWeight * steps(signals.addressJoins, over: weights.addressJoinsFree))
        let ramp = min(1, max(0, (signals.addressJoins - 1) / weights.networkJoinsRamp))
        score.add(.networkJoins, ramp * weights.networkJoinsWeight * steps(signals.networkJoins, over: weights.networkJoinsFree))
        if signals.automationHeaders { score.add(.automationHeaders, weights.automationHeaders) }
        // The sale's load raises the price of joins from an address that joins again and
        // again, never of a quiet first join (headers alone do not count): an honest
        // shopper arriving in a crowd pays nothing.
        guard score.points[.addressJoins] != nil || score.points[.networkJoins] != nil else { return score }
        let busy = weights.saleLoadFree * max(signals.admissionRatePerSecond, 1)
        score.add(.saleLoad, min(weights.saleLoadMax, weights.saleLoadWeight * steps(signals.saleJoinsPerSecond, over: busy)))
        return score
    }

    /// The score of a payment, and the reseller flags it raises (`flags`).
    public static func payment(_ signals: PaymentSignals, weights: RiskWeights = RiskWeights()) -> RiskScore {
        var score = RiskScore()
        let fastReserve = signals.secondsToReserve.map { $0 < weights.humanReservationSeconds } ?? false
        if fastReserve || signals.secondsToPay < weights.humanPaymentSeconds { score.add(.fastCheckout, weights.fastCheckout) }
        score.add(.sharedCard, weights.sharedCard * Double(signals.otherCustomersOnCard))
        score.add(.addressCluster, weights.addressCluster * max(0, Double(signals.otherCustomersInBuilding) - weights.addressClusterFree))
        score.add(
            .emailCluster, weights.emailCluster * max(0, Double(signals.otherCustomersAtEmailDomain) - weights.emailClusterFree))
        score.add(.addressFarm, weights.addressFarm * max(0, Double(signals.ordersFromNetwork) - weights.addressFarmFree))
        return score
    }

    /// The order flags of API.md for a payment score that reached `weights.flagThreshold`,
    /// else none: `fast_checkout` (either fast step), `shared_card`, `address_cluster`,
    /// `email_cluster`, `address_farm`. Sorted.
    public func flags(weights: RiskWeights = RiskWeights()) -> [String] {
        guard total >= weights.flagThreshold else { return [] }
        var flags = Set<String>()
        for signal in signals {
            switch signal {
            case .fastCheckout, .sharedCard, .addressCluster, .emailCluster, .addressFarm: flags.insert(signal.rawValue)
            case .addressJoins, .networkJoins, .automationHeaders, .saleLoad: break
            }
        }
        return flags.sorted()
    }
}
