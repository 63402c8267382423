import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import ServiceLifecycle

/// Forgets idempotency keys past their retention (48 h; the contract promises 24 h).
struct IdempotencyJanitor: Service {
    let store: any Store
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: .seconds(600), limit: .seconds(300), logger: logger, failure: "idempotency purge failed") {
            let purged = try await store.purgeIdempotencyKeys(before: Date().addingTimeInterval(-IdempotencyKey.retention))
            if purged > 0 { logger.info("idempotency keys purged", metadata: ["count": "\(purged)"]) }
        }
    }
}
