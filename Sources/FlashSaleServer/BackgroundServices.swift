import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import ServiceLifecycle

/// Returns the units of unpaid reservations to their sales soon after `expires_at`
/// (invariant 4: within one second), and opens the gate for them.
struct ExpirySweeper: Service {
    let store: any Store
    let engine: InventoryEngine
    let metrics: ShopMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval) {
            do {
                // Sweep until a pass finds less than a full page, so a backlog clears at once.
                while true {
                    let returned = try await store.releaseExpired(now: Date(), limit: 1_000)
                    for (saleID, units) in returned {
                        engine.unitsReturned(saleID: saleID, units: units)
                        metrics.unitsExpired(saleID: saleID, units: units)
                        logger.info("reservations expired", metadata: ["sale": "\(saleID.lowercased)", "units": "\(units)"])
                    }
                    if returned.values.reduce(0, +) < 1_000 { break }
                }
            } catch where !Task.isCancelled {
                logger.error("expiry sweep failed; retrying", metadata: ["error": "\(error)"])
            } catch {}
        }
    }
}

/// Reloads the storefront cache and feeds every gate the store's count, so that units
/// returned on other nodes reach this node's gate within one interval.
struct CatalogRefresher: Service {
    let catalog: SaleCatalog
    let engine: InventoryEngine
    let metrics: ShopMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval) {
            do {
                for sale in try await catalog.refresh() {
                    engine.observe(saleID: sale.id, available: sale.inventory.available)
                    metrics.inventory(sale)
                }
            } catch where !Task.isCancelled {
                logger.warning("catalog refresh failed; serving the last copy", metadata: ["error": "\(error)"])
            } catch {}
        }
    }
}

/// Forgets idempotency keys past their retention (48 h; the contract promises 24 h).
struct IdempotencyJanitor: Service {
    let store: any Store
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: .seconds(600)) {
            do {
                let purged = try await store.purgeIdempotencyKeys(before: Date().addingTimeInterval(-IdempotencyKey.retention))
                if purged > 0 { logger.info("idempotency keys purged", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("idempotency purge failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Runs `body` every `interval` until the service group shuts down gracefully.
func repeatUntilShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    } catch is CancellationError {
        // Shutdown: the loop ends quietly.
    }
}
