import Foundation

/// Everything `flashsale crowd` is told on its command line.
public struct CrowdConfig: Sendable {
    /// Base URLs of the nodes; each request goes to the next (`NodeRotation`).
    public var baseURLs: [String]
    /// The first node; setting it sets them all (one URL or a comma-separated list).
    public var baseURL: String {
        get { baseURLs.first ?? "" }
        set { baseURLs = NodeRotation.parse([newValue]) }
    }
    public var adminToken: String
    public var shoppers: Int
    /// Play an existing sale; when nil a new one is created from the fields below.
    public var saleID: String?
    public var quantity = 200
    public var ratePerSecond = 50
    public var startsInSeconds = 5.0
    public var reservationTTLSeconds = 30
    public var connections = 128
    public var curve = ArrivalCurve()
    public var profile = CrowdProfile()
    public var seed: UInt64 = 1
    /// Base URL of the payment provider whose ledger is reconciled; nil: no double-charge check.
    public var pspURL: String?
    /// The crowd is stopped this long after the opening, whatever it is doing.
    public var maxSeconds = 600.0
    /// After the crowd, wait at most the reservation TTL plus this for held units to return.
    public var settleGraceSeconds = 5.0
    /// Each client claims an address of its own in `X-Forwarded-For` (`CrowdAddresses`), for
    /// a server that trusts the crowd's address as a proxy; off: all are the crowd's address.
    public var forwardedAddresses = false
    /// Honest shoppers sharing the office NAT's one address (needs `forwardedAddresses`).
    public var natShoppers = 0
    /// The reseller farm playing against the crowd (needs `forwardedAddresses`).
    public var farm = FarmProfile()
    /// Threads solving honest shoppers' proof of work (each shopper has a device of its
    /// own; the crowd has the machine's cores).
    public var honestSolvers = max(ProcessInfo.processInfo.activeProcessorCount, 1)

    /// - Parameter baseURL: one base URL, or several separated by commas.
    public init(baseURL: String, adminToken: String, shoppers: Int) {
        self.init(baseURLs: [baseURL], adminToken: adminToken, shoppers: shoppers)
    }

    /// - Parameter baseURLs: the nodes' base URLs (each may be a comma-separated list).
    public init(baseURLs: [String], adminToken: String, shoppers: Int) {
        self.baseURLs = NodeRotation.parse(baseURLs)
        self.adminToken = adminToken
        self.shoppers = shoppers
    }

    /// What is wrong with the address and farm settings, or nil.
    public var problem: String? {
        if baseURLs.isEmpty { return "at least one --url is needed" }
        if !forwardedAddresses && (natShoppers > 0 || farm.enabled) {
            return "NAT shoppers and the farm need forwarded addresses (--forwarded-addresses)"
        }
        if !(0...shoppers).contains(natShoppers) { return "NAT shoppers must be between 0 and the shoppers" }
        if !(0...CrowdAddresses.maxFarmAddresses).contains(farm.addresses) {
            return "farm addresses must be between 0 and \(CrowdAddresses.maxFarmAddresses) (one /24)"
        }
        if farm.enabled {
            if farm.joinSeconds < 0 || farm.earlySeconds < 0 { return "farm join times must not be negative" }
            if farm.pollMs < 1 || farm.reserveDelayMs < 0 { return "farm poll interval must be positive, reserve delay not negative" }
            if farm.dropAddresses < 1 || farm.solvers < 1 { return "the farm needs at least one drop address and one solver" }
        }
        return nil
    }
}
