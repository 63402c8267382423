/// Everything `flashsale crowd` is told on its command line.
public struct CrowdConfig: Sendable {
    public var baseURL: String
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

    public init(baseURL: String, adminToken: String, shoppers: Int) {
        self.baseURL = baseURL
        self.adminToken = adminToken
        self.shoppers = shoppers
    }
}
