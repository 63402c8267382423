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

    /// The batch: first in one statement on the facts nearly every batch of a drop has
    /// (`commitAssumingClear`); when they are not those, planned on the facts read under the
    /// sale's lock (`commitOnReadFacts`). Nil when another node holds the sale's advisory lock.
    private func commit(_ attempts: [ReservationAttempt], saleID: UUID, now: Date, advisory: Bool) async throws -> BatchResult? {
        if advisory {
            switch try await commitAssumingClear(attempts, saleID: saleID, now: now) {
            case .committed(let result): return result
            case .busy: return nil
            case .notClear: break
            }
        }
        return try await commitOnReadFacts(attempts, saleID: saleID, now: now, advisory: advisory)
    }

    private enum AssumedCommit {
        case committed(BatchResult)
        /// Another node holds the sale's advisory lock.
        case busy
        /// A fact was not empty, or fewer units were available than the plan takes: nothing
        /// was written.
        case notClear
    }

    /// The batch planned as if its facts were empty (`ReserveBatch.assumingClear`) and written
    /// by one statement that takes the sale's lock and checks them under it. One
    /// lease and one round trip, where a transaction takes two waits and holds its
    /// connection across this task's wake-up between them (issue 15). A replayed key, a
    /// returning customer, a pass that holds a reservation or stock short of the batch make
    /// it write nothing, and the batch is planned on read facts instead.
    private func commitAssumingClear(_ attempts: [ReservationAttempt], saleID: UUID, now: Date) async throws -> AssumedCommit {
        let statement = PostgresStatements.ReserveBatch.assumingClear(attempts, saleID: saleID, now: now)
        // A batch that takes nothing (its refusals are the planner's own) has no units to
        // check against the stock: it goes the read way, whose answer carries the count.
        guard statement.plan.units > 0 else { return .notClear }
        let rows = try await engineClient.query(try statement.query, logger: logger).collect()
        guard let row = rows.first else { throw StoreError.corruptRow("flashsale_reserve_batch answered no row") }
        let answer = try statement.decodeRow(row)
        guard answer.locked else { return .busy }
        guard answer.clear, answer.written, let available = answer.availableAfter else { return .notClear }
        return .committed(BatchResult(outcomes: statement.plan.outcomes, available: available))
    }

    /// One transaction for the batch in two waits: BEGIN, the lock and read, and the facts
    /// in one group; the write and COMMIT in the other, so the sale's inventory row is held
    /// only until the connection sends the COMMIT, not until this task wakes to send it.
    /// Nil when another node holds the sale's advisory lock. (The statements were prepared
    /// once per connection, which saved their planning but cost a wait each: at 100,000
    /// shoppers the waits cost more, issue 15.)
    private func commitOnReadFacts(
        _ attempts: [ReservationAttempt], saleID: UUID, now: Date, advisory: Bool
    ) async throws -> BatchResult? {
        // Under the advisory lock no other writer takes units (cancellation and expiry only
        // add them), so a plain read suffices; the guarded UPDATE stays the source of truth.
        // The naive path (no advisory lock) queues on the row lock instead.
        let read: PostgresQuery =
            advisory
            ? try PostgresStatements.LockAndRead(saleID: saleID).query
            : """
            SELECT true, available::bigint FROM inventory WHERE sale_id = \(saleID) FOR UPDATE
            """
        let factsStatement = PostgresStatements.Facts(saleID: saleID, attempts: attempts)
        return try await PipelinedTransaction.run(on: engineClient, logger: logger) { transaction -> BatchResult? in
            let results = try await transaction.begin([read, try factsStatement.query])
            var available: Int?
            for row in results[0] {
                let (locked, units) = try row.decode(PostgresStatements.LockAndRead.Row.self)
                guard locked else { return nil }
                available = units
            }
            guard let available else { throw StoreError.saleNotFound(saleID) }
            var facts = ReservationPlanner.Facts(available: available)
            for row in results[1] {
                let (kind, text, key, fingerprint, number, body, pass) = try factsStatement.decodeRow(row)
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
            // The statement writes nothing when its guard fails, so the COMMIT sent with it
            // commits nothing. It takes no lock of its own: the advisory one is held (and the
            // naive baseline holds the row's).
            let write = PostgresStatements.ReserveBatch(saleID: saleID, now: now, plan: plan, assumedClear: nil)
            let written = try await transaction.commit([try write.query])
            let answer = try written[0].first.map { try write.decodeRow($0) }
            guard units == 0 || answer?.written == true else { throw StoreError.inventoryGuardFailed(saleID) }
            return BatchResult(outcomes: plan.outcomes, available: available - units)
        }
    }

    public func cancelReservation(id: UUID, now: Date) async throws -> CancelResult {
        // No transaction: the release is one statement, and the read after it only explains
        // why nothing was released. The inventory row is locked only while it runs. Each is a
        // lease of its own, which the pool gets back on the connection's event loop as soon
        // as the answer is in (issue 15: a lease held until this task woke cost more).
        for try await (saleID, units) in try await client.query(
            """
            WITH c AS (
                UPDATE reservations SET status = 'cancelled', closed_at = \(now)
                WHERE id = \(id) AND status = 'held' RETURNING sale_id, quantity
            )
            UPDATE inventory i SET available = i.available + c.quantity, taken = i.taken - c.quantity
            FROM c WHERE i.sale_id = c.sale_id RETURNING c.sale_id, c.quantity
            """, logger: logger
        ).decode((UUID, Int).self) {
            return .released(saleID: saleID, units: units)
        }
        for try await (status) in try await client.query(
            "SELECT status FROM reservations WHERE id = \(id)", logger: logger
        ).decode(String.self) {
            return status == "paid" ? .paid : .alreadyReleased
        }
        return .notFound
    }

    public func reservation(id: UUID) async throws -> ReservationRecord? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.reservationColumns(table: "reservations", prefix: ""))
            FROM reservations WHERE id = \(id)
            """, logger: logger)
        var found: ReservationRecord?
        for try await row in rows { found = try Self.reservation(row.makeRandomAccess(), prefix: "") }
        return found
    }

    /// The select list that `reservation(_:prefix:)` reads: `table`'s columns, each named
    /// with `prefix`, so that a reservation can ride along in another table's row.
    static func reservationColumns(table: String, prefix: String) -> String {
        reservationColumnNames.map { "\(table).\($0) AS \(prefix)\($0)" }.joined(separator: ", ")
    }

    private static let reservationColumnNames = [
        "id", "sale_id", "pass_id", "email", "customer_key", "quantity", "amount_cents", "status", "created_at", "expires_at",
    ]

    /// The reservation in `row`'s `prefix`-named columns; nil when its id is null (an outer
    /// join found none).
    static func reservation(_ row: PostgresRandomAccessRow, prefix: String) throws -> ReservationRecord? {
        guard let id = try row[prefix + "id"].decode(UUID?.self) else { return nil }
        let status = try row[prefix + "status"].decode(String.self)
        guard let status = ReservationRecord.Status(rawValue: status) else {
            throw StoreError.corruptRow("reservation status \(status)")
        }
        return ReservationRecord(
            id: id, saleID: try row[prefix + "sale_id"].decode(UUID.self), passID: try row[prefix + "pass_id"].decode(UUID.self),
            email: try row[prefix + "email"].decode(String.self), customerKey: try row[prefix + "customer_key"].decode(String.self),
            quantity: try row[prefix + "quantity"].decode(Int.self), amountCents: try row[prefix + "amount_cents"].decode(Int.self),
            status: status, createdAt: try row[prefix + "created_at"].decode(Date.self),
            expiresAt: try row[prefix + "expires_at"].decode(Date.self))
    }

    public func releaseExpired(now: Date, limit: Int) async throws -> [UUID: Int] {
        // One statement: the expiry and the units' return commit together. SKIP LOCKED lets
        // every node sweep at once without waiting on each other.
        let rows = try await backgroundClient.query(
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
            UPDATE inventory i SET available = i.available + p.units, taken = i.taken - p.units
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
        let rows = try await backgroundClient.query(
            "WITH d AS (DELETE FROM idempotency_keys WHERE created_at < \(cutoff) RETURNING 1) SELECT count(*)::bigint FROM d",
            logger: logger)
        for try await (count) in rows.decode(Int.self) { return count }
        return 0
    }
}
