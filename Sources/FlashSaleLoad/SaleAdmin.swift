import FlashSaleBench
import FlashSaleCore
import Foundation

/// The operator's side of a crowd run: the sale it plays, its stats, the provider's ledger.
struct SaleAdmin: Sendable {
    let client: CrowdClient
    let token: String

    private var authorization: [(String, String)] { [("Authorization", "Bearer \(token)")] }

    /// Creates the run's sale from the configuration, opening `startsInSeconds` from now.
    func create(_ config: CrowdConfig) async throws -> ShopWire.Sale {
        let startsAt = Date().addingTimeInterval(config.startsInSeconds)
        let sale = NewSale(
            sku: "CROWD-\(UUID().uuidString.prefix(8))", name: "Crowd run", priceCents: 12_900, quantity: config.quantity,
            startsAt: startsAt, endsAt: startsAt.addingTimeInterval(max(config.maxSeconds, 60) + 3_600),
            reservationTTLSeconds: config.reservationTTLSeconds, admissionRatePerSecond: config.ratePerSecond)
        let body = String(decoding: try JSONCoding.encoder().encode(sale), as: UTF8.self)
        let reply = try await adminRequest("POST", "/api/v1/admin/sales", body: body)
        guard reply.status == 201, let created = CrowdClient.decode(ShopWire.Sale.self, reply) else {
            throw CrowdRun.SetupError(description: "creating the sale answered \(reply.status): \(reply.text)")
        }
        return created
    }

    /// An existing sale, as the admin API shows it (with its reservation TTL).
    func sale(_ id: String) async throws -> ShopWire.Sale {
        let reply = try await adminRequest("GET", "/api/v1/admin/sales/\(id)")
        guard reply.status == 200, let sale = CrowdClient.decode(ShopWire.Sale.self, reply) else {
            throw CrowdRun.SetupError(description: "sale \(id) answered \(reply.status): \(reply.text)")
        }
        return sale
    }

    /// The stats once no unit is held any more, or the last ones read after `seconds`
    /// (then `settled` is false: the undersell check counts what is still held).
    func settledStats(_ id: String, within seconds: Double) async -> (ShopWire.Stats?, settled: Bool) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var last: ShopWire.Stats?
        while true {
            if let reply = try? await adminRequest("GET", "/api/v1/admin/sales/\(id)/stats"), reply.status == 200 {
                last = CrowdClient.decode(ShopWire.Stats.self, reply) ?? last
            }
            if let last, last.reserved == 0 { return (last, true) }
            if ContinuousClock.now >= deadline { return (last, false) }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// The payment provider's ledger, summarised for reconciliation.
    func ledger(_ pspURL: String) async throws -> LedgerSummary {
        let reply = try await BenchHTTP.send(client.http, pspURL, "GET", "/v1/ledger", body: nil, headers: [])
        guard reply.status == 200 else {
            throw CrowdRun.SetupError(description: "the provider's ledger answered \(reply.status): \(reply.text)")
        }
        return try Ledger.summarize(json: Data(reply.body.readableBytesView))
    }

    private func adminRequest(_ method: String, _ path: String, body: String? = nil) async throws -> BenchHTTP.Reply {
        try await client.exchange(method, path, body: body, headers: authorization).reply
    }
}
