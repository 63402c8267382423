import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import ServiceLifecycle

/// Reloads the storefront cache and feeds every gate the store's count, so that units
/// returned on other nodes reach this node's gate within one interval; sets the per-sale
/// gauges of the sales whose series are kept (`ShopMetrics.retireSales`). On PostgreSQL a
/// sale created or changed on another node is re-read at once, by LISTEN/NOTIFY
/// (`ChangeFeed.sales`); the interval's re-read is the fallback.
struct CatalogRefresher: Service {
    let catalog: SaleCatalog
    let engine: InventoryEngine
    let waitingRoom: WaitingRoom
    let metrics: ShopMetrics
    let store: any Store
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await repeatUntilShutdown(
                    every: interval, limit: .seconds(10), logger: logger, failure: "catalog refresh failed; serving the last copy"
                ) {
                    try await refresh()
                }
            }
            group.addTask {
                await listenUntilShutdown(to: .sales, on: store, retry: .seconds(1), logger: logger) {
                    do { try await refresh() } catch { logger.warning("catalog refresh failed", metadata: ["error": "\(error)"]) }
                }
            }
        }
    }

    private func refresh() async throws {
        let marks = engine.marks()
        let sales = try await catalog.refresh()
        let now = Date()
        metrics.retireSales(sales, now: now)
        for sale in sales {
            engine.observe(saleID: sale.id, available: sale.inventory.available, since: marks[sale.id] ?? -1)
            guard metrics.tracks(sale.id) else { continue }
            metrics.sale(sale, now: now)
            metrics.queue(saleID: sale.id, waitingRoom.figures(for: sale, now: now, acrossNodes: false))
        }
    }
}
