import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import ServiceLifecycle

/// Reloads the storefront cache and feeds every gate the store's count, so that units
/// returned on other nodes reach this node's gate within one interval.
struct CatalogRefresher: Service {
    let catalog: SaleCatalog
    let engine: InventoryEngine
    let metrics: ShopMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval, logger: logger, failure: "catalog refresh failed; serving the last copy") {
            let marks = engine.marks()
            for sale in try await catalog.refresh() {
                engine.observe(saleID: sale.id, available: sale.inventory.available, since: marks[sale.id] ?? -1)
                metrics.inventory(sale)
            }
        }
    }
}
