import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The `Idempotency-Key` mechanism shared by every checkout endpoint.
///
/// A finished request's response is stored by the work itself, in the same transaction
/// (the engine writes it with the reservation), and a replay that reaches the store is
/// answered there, under the sale's lock. So the common path reads nothing extra: only an
/// answer decided without the store (validation, a paused sale, the sold-out gate) is
/// checked against a stored response first, which it then gives way to (or 422 for the
/// same key with another body). A key whose first request is still running on this node
/// answers 409.
final class IdempotencyGuard: Sendable {
    static let header = HTTPField.Name("Idempotency-Key")!

    /// What the work answered, and whether the store decided it (and recorded it).
    struct Answer: Sendable {
        var response: StoredResponse
        var recorded: Bool
    }

    let store: any Store
    private let running = Mutex<Set<ReservationPlanner.KeyID>>([])

    init(store: any Store) {
        self.store = store
    }

    static func key(in request: Request) throws(APIError) -> String {
        guard let key = request.headers[header], IdempotencyKey.isValid(key) else { throw .idempotencyKeyRequired }
        return key
    }

    func run(_ claim: IdempotencyClaim, work: () async throws -> Answer) async throws -> StoredResponse {
        try await exclusive(claim) {
            let answer: Answer
            do {
                answer = try await work()
            } catch let error as APIError {
                if let stored = try await stored(claim) { return stored }
                throw error
            }
            if answer.recorded { return answer.response }
            return try await stored(claim) ?? answer.response
        }
    }

    /// Runs `work` unless a request with the same key is still running on this node (409).
    func exclusive<T>(_ claim: IdempotencyClaim, work: () async throws -> T) async throws -> T {
        let id = ReservationPlanner.KeyID(claim)
        guard running.withLock({ $0.insert(id).inserted }) else { throw APIError.requestInProgress }
        defer { _ = running.withLock { $0.remove(id) } }
        return try await work()
    }

    /// The stored response for this key, or 422 when the key was used with another body.
    private func stored(_ claim: IdempotencyClaim) async throws -> StoredResponse? {
        guard let stored = try await store.storedResponse(scope: claim.scope, key: claim.key) else { return nil }
        guard stored.fingerprint == claim.fingerprint else { throw APIError.idempotencyKeyReused }
        return stored.response
    }
}
