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
        try await repeatUntilShutdown(every: interval, limit: .seconds(10), logger: logger, failure: "expiry sweep failed; retrying", level: .error) {
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
