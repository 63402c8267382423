import FlashSaleCore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    public func commitReservations(_ attempts: [ReservationAttempt], saleID: UUID, now: Date) async throws -> BatchResult {
        // Nodes take turns per sale through an advisory lock instead of queueing on the row
        // lock: a node that finds the sale busy backs off briefly and meanwhile its batch grows.
        // A lock held for seconds is held by a session that is not coming back (one left
        // behind when PostgreSQL restarted): the callers are answered 503 rather than spun on.
        var backoff = 1
        let giveUp = ContinuousClock.now + .seconds(10)
        while true {
            if let result = try await commit(attempts, saleID: saleID, now: now, advisory: true) { return result }
            guard ContinuousClock.now < giveUp else { throw StoreError.commitTimedOut(saleID) }
            try await Task.sleep(for: .milliseconds(backoff))
            backoff = min(backoff * 2, 20)
        }
    }

    public func reserveUnbatched(_ attempt: ReservationAttempt, now: Date) async throws -> BatchResult {
        // The naive baseline: no advisory lock, every transaction waits for the row lock.
        try await commit([attempt], saleID: attempt.saleID, now: now, advisory: false)!
    }

    /// One transaction for the batch in four round trips (lock and read, facts, writes,
    /// commit) of prepared statements; nil when another node holds the sale's advisory lock.
    private func commit(_ attempts: [ReservationAttempt], saleID: UUID, now: Date, advisory: Bool) async throws -> BatchResult? {
        let logger = self.logger
        return try await transaction { conn -> BatchResult? in
            var before: Inventory?
            if advisory {
                // Under the advisory lock no other writer takes units (cancellation and
                // expiry only add them), so a plain read suffices; the guarded UPDATE stays
                // the source of truth.
                for try await (locked, available, reserved, sold) in try await conn.execute(
                    PostgresStatements.LockAndRead(saleID: saleID), logger: logger)
                {
                    guard locked else { return nil }
                    if let available, let reserved, let sold {
                        before = Inventory(available: available, reserved: reserved, sold: sold)
                    }
                }
            } else {
                // The naive path queues on the row lock.
                for try await (available, reserved, sold) in try await conn.query(
                    "SELECT available, reserved, sold FROM inventory WHERE sale_id = \(saleID) FOR UPDATE", logger: logger
                ).decode((Int, Int, Int).self) {
                    before = Inventory(available: available, reserved: reserved, sold: sold)
                }
            }
            guard let before else { throw StoreError.saleNotFound(saleID) }
            var facts = ReservationPlanner.Facts(available: before.available)
            for try await (kind, text, key, fingerprint, number, body, pass) in try await conn.execute(
                PostgresStatements.Facts(saleID: saleID, attempts: attempts), logger: logger)
            {
                switch kind {
                case "key":
                    guard let text, let key, let fingerprint, let number, let body else { continue }
                    facts.storedKeys[.init(scope: text, key: key)] = .init(
                        fingerprint: fingerprint, response: StoredResponse(status: number, body: body))
                case "customer":
                    if let text, let number { facts.customerUnits[text] = number }
                default:
                    if let pass { facts.passesHolding.insert(pass) }
                }
            }
            let plan = ReservationPlanner.plan(attempts, facts: facts)
            let units = plan.units
            var guardHeld = true
            for try await updated in try await conn.execute(
                PostgresStatements.Write(saleID: saleID, now: now, plan: plan), logger: logger)
            {
                guardHeld = units == 0 || updated == 1
            }
            guard guardHeld else { throw StoreError.inventoryGuardFailed(saleID) }
            var after = before
            after.available -= units
            after.reserved += units
            return BatchResult(outcomes: plan.outcomes, inventory: after)
        }
    }

    public func cancelReservation(id: UUID, now: Date) async throws -> CancelResult {
        let logger = self.logger
        return try await transaction { conn -> CancelResult in
            for try await (saleID, units) in try await conn.query(
                """
                WITH c AS (
                    UPDATE reservations SET status = 'cancelled', closed_at = \(now)
                    WHERE id = \(id) AND status = 'held' RETURNING sale_id, quantity
                )
                UPDATE inventory i SET available = i.available + c.quantity, reserved = i.reserved - c.quantity
                FROM c WHERE i.sale_id = c.sale_id RETURNING c.sale_id, c.quantity
                """, logger: logger
            ).decode((UUID, Int).self) {
                return .released(saleID: saleID, units: units)
            }
            for try await (status) in try await conn.query(
                "SELECT status FROM reservations WHERE id = \(id)", logger: logger
            ).decode(String.self) {
                return status == "paid" ? .paid : .alreadyReleased
            }
            return .notFound
        }
    }

    public func reservation(id: UUID) async throws -> ReservationRecord? {
        let logger = self.logger
        return try await client.withConnection { conn in try await Self.reservation(conn, id: id, logger: logger) }
    }

    /// A reservation; `lock` takes its row lock for the rest of the transaction.
    static func reservation(_ conn: PostgresConnection, id: UUID, logger: Logger, lock: Bool = false) async throws -> ReservationRecord? {
        let rows = try await conn.query(
            """
            SELECT id, sale_id, pass_id, email, customer_key, quantity, amount_cents, status, created_at, expires_at
            FROM reservations WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger)
        var found: ReservationRecord?
        for try await (id, saleID, passID, email, customerKey, quantity, amount, status, createdAt, expiresAt) in rows.decode(
            (UUID, UUID, UUID, String, String, Int, Int, String, Date, Date).self)
        {
            guard let status = ReservationRecord.Status(rawValue: status) else {
                throw StoreError.corruptRow("reservation status \(status)")
            }
            found = ReservationRecord(
                id: id, saleID: saleID, passID: passID, email: email, customerKey: customerKey, quantity: quantity,
                amountCents: amount, status: status, createdAt: createdAt, expiresAt: expiresAt)
        }
        return found
    }

    public func releaseExpired(now: Date, limit: Int) async throws -> [UUID: Int] {
        // One statement: the expiry and the units' return commit together. SKIP LOCKED lets
        // every node sweep at once without waiting on each other.
        let rows = try await client.query(
            """
            WITH expired AS (
                UPDATE reservations SET status = 'expired', closed_at = \(now)
                WHERE id IN (
                    SELECT id FROM reservations WHERE status = 'held' AND expires_at <= \(now)
                    ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING sale_id, quantity
            ), per_sale AS (
                SELECT sale_id, SUM(quantity)::int AS units FROM expired GROUP BY sale_id
            )
            UPDATE inventory i SET available = i.available + p.units, reserved = i.reserved - p.units
            FROM per_sale p WHERE i.sale_id = p.sale_id RETURNING i.sale_id, p.units
            """, logger: logger)
        var returned: [UUID: Int] = [:]
        for try await (saleID, units) in rows.decode((UUID, Int).self) { returned[saleID] = units }
        return returned
    }

    // MARK: Idempotency

    public func storedResponse(scope: String, key: String) async throws -> ReservationPlanner.StoredKey? {
        let rows = try await client.query(
            "SELECT fingerprint, status_code, body FROM idempotency_keys WHERE scope = \(scope) AND key = \(key)",
            logger: logger)
        for try await (fingerprint, status, body) in rows.decode((String, Int, Data).self) {
            return .init(fingerprint: fingerprint, response: StoredResponse(status: status, body: body))
        }
        return nil
    }

    public func purgeIdempotencyKeys(before cutoff: Date) async throws -> Int {
        let rows = try await client.query(
            "WITH d AS (DELETE FROM idempotency_keys WHERE created_at < \(cutoff) RETURNING 1) SELECT count(*)::bigint FROM d",
            logger: logger)
        for try await (count) in rows.decode(Int.self) { return count }
        return 0
    }
}
