import Foundation

/// Decides, for one batch of reservation attempts on one sale, which ones the store commits.
///
/// Both stores read the facts under their write lock and call this one function, so the
/// rules (idempotent replay, one live reservation per pass, per-customer limit, the stock
/// guard, first come first served within the batch) live in one place and are unit-tested
/// without a database.
public enum ReservationPlanner {
    /// What the store knows when it plans a batch.
    public struct Facts: Sendable {
        /// Units available right now, read under the sale's write lock.
        public var available: Int
        /// Stored responses of keys the batch names, keyed by scope and key.
        public var storedKeys: [KeyID: StoredKey]
        /// Units each customer key already holds or bought in this sale.
        public var customerUnits: [String: Int]
        /// Passes that already hold a live reservation in this sale.
        public var passesHolding: Set<UUID>

        public init(
            available: Int, storedKeys: [KeyID: StoredKey] = [:], customerUnits: [String: Int] = [:],
            passesHolding: Set<UUID> = []
        ) {
            self.available = available
            self.storedKeys = storedKeys
            self.customerUnits = customerUnits
            self.passesHolding = passesHolding
        }
    }

    public struct KeyID: Sendable, Hashable {
        public var scope: String
        public var key: String
        public init(scope: String, key: String) {
            self.scope = scope
            self.key = key
        }
        public init(_ claim: IdempotencyClaim) { self.init(scope: claim.scope, key: claim.key) }
    }

    public struct StoredKey: Sendable, Equatable {
        public var fingerprint: String
        public var response: StoredResponse
        public init(fingerprint: String, response: StoredResponse) {
            self.fingerprint = fingerprint
            self.response = response
        }
    }

    public struct Plan: Sendable {
        /// One outcome per attempt, in the order given.
        public var outcomes: [ReservationOutcome]
        /// The attempts to insert as held reservations.
        public var reserved: [ReservationAttempt]
        /// Keys to record with their responses, in the same transaction.
        public var newKeys: [(claim: IdempotencyClaim, response: StoredResponse)]
        /// Units taken from `available` and added to `reserved`.
        public var units: Int { reserved.reduce(0) { $0 + $1.quantity } }
    }

    public static func plan(_ attempts: [ReservationAttempt], facts: Facts) -> Plan {
        var available = facts.available
        var customerUnits = facts.customerUnits
        var passesHolding = facts.passesHolding
        var keys = facts.storedKeys
        var plan = Plan(outcomes: [], reserved: [], newKeys: [])
        plan.outcomes.reserveCapacity(attempts.count)

        for attempt in attempts {
            let id = KeyID(attempt.idempotency)
            if let stored = keys[id] {
                plan.outcomes.append(
                    stored.fingerprint == attempt.idempotency.fingerprint
                        ? .replayed(stored.response) : .rejected(.idempotencyKeyReused))
                continue
            }
            let outcome: ReservationOutcome
            let held = customerUnits[attempt.customerKey, default: 0]
            if attempt.quantity < 1 {
                // The server validates first; this keeps a bad attempt from adding stock.
                outcome = .rejected(.validation("quantity must be at least 1"))
            } else if passesHolding.contains(attempt.passID) {
                outcome = .rejected(.passHasReservation)
            } else if held + attempt.quantity > attempt.perCustomerLimit {
                outcome = .rejected(.limitExceeded)
            } else if attempt.quantity > available {
                outcome = .rejected(.soldOut)
            } else {
                available -= attempt.quantity
                customerUnits[attempt.customerKey] = held + attempt.quantity
                passesHolding.insert(attempt.passID)
                plan.reserved.append(attempt)
                outcome = .reserved(attempt.receipt)
            }
            let response = outcome.response
            keys[id] = StoredKey(fingerprint: attempt.idempotency.fingerprint, response: response)
            plan.newKeys.append((attempt.idempotency, response))
            plan.outcomes.append(outcome)
        }
        return plan
    }
}
