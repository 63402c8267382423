import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The `Idempotency-Key` mechanism shared by every checkout endpoint.
///
/// A finished request's response is stored by the work itself, in the same transaction
/// (the engine writes it with the reservation). This guard answers replays from the store,
/// refuses a reused key with another body (422), and refuses a key whose first request is
/// still running on this node (409).
final class IdempotencyGuard: Sendable {
    static let header = HTTPField.Name("Idempotency-Key")!

    let store: any Store
    private let running = Mutex<Set<ReservationPlanner.KeyID>>([])

    init(store: any Store) {
        self.store = store
    }

    static func key(in request: Request) throws(APIError) -> String {
        guard let key = request.headers[header], IdempotencyKey.isValid(key) else { throw .idempotencyKeyRequired }
        return key
    }

    /// Replays a stored response, or runs `work` once for this key. An answer `work` gives
    /// without reaching the store (a validation error, the sold-out gate) is not stored:
    /// nothing was done, so a retry is judged afresh.
    func run(_ claim: IdempotencyClaim, work: () async throws -> StoredResponse) async throws -> StoredResponse {
        let id = ReservationPlanner.KeyID(claim)
        guard running.withLock({ $0.insert(id).inserted }) else { throw APIError.requestInProgress }
        defer { _ = running.withLock { $0.remove(id) } }
        if let stored = try await store.storedResponse(scope: claim.scope, key: claim.key) {
            guard stored.fingerprint == claim.fingerprint else { throw APIError.idempotencyKeyReused }
            return stored.response
        }
        return try await work()
    }
}
