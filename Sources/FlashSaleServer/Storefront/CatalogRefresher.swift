import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import ServiceLifecycle

/// Reloads the storefront cache and feeds every gate the store's count, so that units
/// returned on other nodes reach this node's gate within one interval; sets the per-sale
/// gauges of the sales whose series are kept (`ShopMetrics.retireSales`).
struct CatalogRefresher: Service {
    let catalog: SaleCatalog
    let engine: InventoryEngine
    let waitingRoom: WaitingRoom
    let metrics: ShopMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval, logger: logger, failure: "catalog refresh failed; serving the last copy") {
            let marks = engine.marks()
            let sales = try await catalog.refresh()
            let now = Date()
            metrics.retireSales(sales, now: now)
            for sale in sales {
                engine.observe(saleID: sale.id, available: sale.inventory.available, since: marks[sale.id] ?? -1)
                guard metrics.tracks(sale.id) else { continue }
                metrics.sale(sale, now: now)
                metrics.queue(saleID: sale.id, waitingRoom.figures(for: sale, now: now))
            }
        }
    }
}
