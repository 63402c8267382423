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
        try await repeatUntilShutdown(every: interval, logger: logger, failure: "expiry sweep failed; retrying", level: .error) {
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
        try await repeatUntilShutdown(every: interval, logger: logger, failure: "catalog refresh failed; serving the last copy") {
            for sale in try await catalog.refresh() {
                engine.observe(saleID: sale.id, available: sale.inventory.available)
                metrics.inventory(sale)
            }
        }
    }
}

/// Forgets idempotency keys past their retention (48 h; the contract promises 24 h).
struct IdempotencyJanitor: Service {
    let store: any Store
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: .seconds(600), logger: logger, failure: "idempotency purge failed") {
            let purged = try await store.purgeIdempotencyKeys(before: Date().addingTimeInterval(-IdempotencyKey.retention))
            if purged > 0 { logger.info("idempotency keys purged", metadata: ["count": "\(purged)"]) }
        }
    }
}

/// Runs `body` every `interval` until shutdown; a failed pass is logged under `failure`
/// and the next pass tries again.
func repeatUntilShutdown(
    every interval: Duration, logger: Logger, failure: String, level: Logger.Level = .warning,
    _ body: @escaping @Sendable () async throws -> Void
) async throws {
    try await repeatUntilShutdown(every: interval) {
        do {
            try await body()
        } catch where !Task.isCancelled {
            logger.log(level: level, "\(failure)", metadata: ["error": "\(error)"])
        } catch {}
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
