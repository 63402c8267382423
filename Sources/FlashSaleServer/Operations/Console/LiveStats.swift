import FlashSaleCore
import FlashSaleStore
import Foundation

/// One `stats` event of `GET /api/v1/admin/events` (API.md), also what the dashboard
/// draws: every live, upcoming and recently ended sale (the catalog's, at most
/// `SaleCatalog.retention` after its end), with its stock, its line across the nodes (`ClusterAdmission.combined`), its
/// payments and the refusals made on its routes; and this node's refusals by reason.
struct StatsEvent: Encodable, Sendable {
    let at: Date
    let sales: [SaleStats]
    /// Refusals on this node by reason, sales or not (connection caps, timeouts, ...).
    let blocked: [String: Int]
    /// Nodes sharing the sales' rates: live by heartbeats, or `--node-count`.
    let nodes: Int
}

/// One sale of a `stats` event: its `/stats` view, plus what the dashboard shows of it.
struct SaleStats: Encodable, Sendable {
    let counts: SaleStatsView
    let sku: String
    let name: String
    let status: String
    let paused: Bool
    let startsAt: Date
    let endsAt: Date
    let blocked: [String: Int]

    enum CodingKeys: String, CodingKey {
        case sku, name, status, paused, startsAt = "starts_at", endsAt = "ends_at", blocked
    }

    func encode(to encoder: any Encoder) throws {
        try counts.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sku, forKey: .sku)
        try c.encode(name, forKey: .name)
        try c.encode(status, forKey: .status)
        try c.encode(paused, forKey: .paused)
        try c.encode(startsAt, forKey: .startsAt)
        try c.encode(endsAt, forKey: .endsAt)
        try c.encode(blocked, forKey: .blocked)
    }
}

/// Gathers a `StatsEvent` from what this node already holds: the catalog's copy of each
/// sale (at most one refresh old), the waiting room's figures, the shield's tallies; the
/// store is asked only for each sale's payment counts.
struct LiveStats: Sendable {
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom
    let store: any Store
    let events: ShieldEvents

    func snapshot(now: Date = Date()) async throws -> StatsEvent {
        let sales = catalog.sales.sorted { ($0.startsAt, $0.id.lowercased) > ($1.startsAt, $1.id.lowercased) }
        events.forget(keeping: Set(sales.map(\.id)))
        var stats: [SaleStats] = []
        stats.reserveCapacity(sales.count)
        for sale in sales {
            let counts = SaleStatsView(
                sale: sale, payments: try await store.paymentCounts(saleID: sale.id), queue: waitingRoom.figures(for: sale, now: now))
            stats.append(
                SaleStats(
                    counts: counts, sku: sale.sku, name: sale.name, status: sale.status(at: now).rawValue, paused: sale.paused,
                    startsAt: sale.startsAt, endsAt: sale.endsAt, blocked: events.refusals(saleID: sale.id)))
        }
        return StatsEvent(at: now, sales: stats, blocked: events.refusals(saleID: nil), nodes: waitingRoom.nodes)
    }
}
