import FlashSaleCore
import Foundation
import GRDB

extension SQLiteStore {
    // SQLite has one writer: the write transaction itself is the sale's lock. Each kind of
    // fact and each kind of row is one statement for the whole batch (row values and
    // multi-row VALUES), not one per attempt.
    public func commitReservations(_ attempts: [ReservationAttempt], saleID: UUID, now: Date) async throws -> BatchResult {
        try await commits.write { db in
            guard let before = try Self.inventory(db, saleID: saleID) else { throw StoreError.saleNotFound(saleID) }
            let facts = try Self.facts(db, saleID: saleID, attempts: attempts, available: before.available)
            let plan = ReservationPlanner.plan(attempts, facts: facts)
            let units = plan.units
            let sale = saleID.lowercased
            if units > 0 {
                try db.cachedStatement(
                    sql: """
                        UPDATE inventory SET available = available - ?, reserved = reserved + ?
                        WHERE sale_id = ? AND available >= ?
                        """
                ).execute(arguments: [units, units, sale, units])
                guard db.changesCount == 1 else { throw StoreError.inventoryGuardFailed(saleID) }
                var arguments = StatementArguments()
                for attempt in plan.reserved {
                    arguments += [
                        attempt.reservationID.lowercased, sale, attempt.passID.lowercased, attempt.email,
                        attempt.customerKey, attempt.quantity, attempt.amountCents, now.ms, attempt.expiresAt.ms,
                    ]
                }
                try db.cachedStatement(
                    sql: """
                        INSERT INTO reservations (id, sale_id, pass_id, email, customer_key, quantity, amount_cents,
                            status, created_at, expires_at)
                        VALUES \(Self.rows("(?, ?, ?, ?, ?, ?, ?, 'held', ?, ?)", plan.reserved.count))
                        """
                ).execute(arguments: arguments)
            }
            if !plan.newKeys.isEmpty {
                var arguments = StatementArguments()
                for (claim, response) in plan.newKeys {
                    arguments += [claim.scope, claim.key, claim.fingerprint, response.status, response.body, now.ms]
                }
                try db.cachedStatement(
                    sql: """
                        INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, body, created_at)
                        VALUES \(Self.rows("(?, ?, ?, ?, ?, ?)", plan.newKeys.count))
                        """
                ).execute(arguments: arguments)
            }
            return BatchResult(outcomes: plan.outcomes, available: before.available - units)
        }
    }

    /// `row, row, …`: `count` copies of one placeholder row.
    static func rows(_ row: String, _ count: Int) -> String {
        Array(repeating: row, count: count).joined(separator: ", ")
    }

    /// Reads what the planner needs in three statements, whatever the batch size. (The
    /// keys are joined, not matched with a row-value IN, which SQLite answers by scanning.)
    static func facts(
        _ db: Database, saleID: UUID, attempts: [ReservationAttempt], available: Int
    ) throws -> ReservationPlanner.Facts {
        var facts = ReservationPlanner.Facts(available: available)
        let sale = saleID.lowercased
        var keyArguments = StatementArguments()
        for attempt in attempts { keyArguments += [attempt.idempotency.scope, attempt.idempotency.key] }
        for row in try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT k.scope, k.key, k.fingerprint, k.status_code, k.body
                    FROM (VALUES \(rows("(?, ?)", attempts.count))) AS t
                    CROSS JOIN idempotency_keys k ON k.scope = t.column1 AND k.key = t.column2
                    """),
            arguments: keyArguments)
        {
            facts.storedKeys[.init(scope: row["scope"], key: row["key"])] = .init(
                fingerprint: row["fingerprint"], response: StoredResponse(status: row["status_code"], body: row["body"]))
        }
        let customers = Array(Set(attempts.map(\.customerKey)))
        for row in try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT customer_key, SUM(quantity) AS units FROM reservations
                    WHERE sale_id = ? AND customer_key IN (\(rows("?", customers.count))) AND status IN ('held', 'paid')
                    GROUP BY customer_key
                    """),
            arguments: StatementArguments([sale] + customers))
        {
            facts.customerUnits[row["customer_key"]] = row["units"]
        }
        let passes = attempts.map(\.passID.lowercased)
        for text in try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT pass_id FROM reservations
                    WHERE sale_id = ? AND pass_id IN (\(rows("?", passes.count))) AND status = 'held'
                    """),
            arguments: StatementArguments([sale] + passes))
        {
            if let pass = UUID(uuidString: text) { facts.passesHolding.insert(pass) }
        }
        return facts
    }

    public func cancelReservation(id: UUID, now: Date) async throws -> CancelResult {
        try await commits.write { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT sale_id, quantity, status FROM reservations WHERE id = ?", arguments: [id.lowercased])
            else { return .notFound }
            switch ReservationRecord.Status(rawValue: row["status"]) {
            case .held:
                let saleID: String = row["sale_id"]
                let units: Int = row["quantity"]
                try db.execute(
                    sql: "UPDATE reservations SET status = 'cancelled', closed_at = ? WHERE id = ?",
                    arguments: [now.ms, id.lowercased])
                try Self.returnUnits(db, saleID: saleID, units: units)
                return .released(saleID: UUID(uuidString: saleID)!, units: units)
            case .paid: return .paid
            case .cancelled, .expired, nil: return .alreadyReleased
            }
        }
    }

    public func reservation(id: UUID) async throws -> ReservationRecord? {
        try await writer.read { db in try Self.reservation(db, id: id) }
    }

    static func reservation(_ db: Database, id: UUID) throws -> ReservationRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM reservations WHERE id = ?"), arguments: [id.lowercased]).map {
            row in
            guard let id = UUID(uuidString: row["id"]), let saleID = UUID(uuidString: row["sale_id"]),
                let passID = UUID(uuidString: row["pass_id"]), let status = ReservationRecord.Status(rawValue: row["status"])
            else { throw StoreError.corruptRow("reservation \(row)") }
            return ReservationRecord(
                id: id, saleID: saleID, passID: passID, email: row["email"], customerKey: row["customer_key"],
                quantity: row["quantity"], amountCents: row["amount_cents"], status: status,
                createdAt: Date(ms: row["created_at"]), expiresAt: Date(ms: row["expires_at"]))
        }
    }

    public func releaseExpired(now: Date, limit: Int) async throws -> [UUID: Int] {
        try await commits.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE reservations SET status = 'expired', closed_at = ?
                    WHERE id IN (SELECT id FROM reservations WHERE status = 'held' AND expires_at <= ? LIMIT ?)
                    RETURNING sale_id, quantity
                    """,
                arguments: [now.ms, now.ms, limit])
            var returned: [String: Int] = [:]
            for row in rows { returned[row["sale_id"], default: 0] += row["quantity"] as Int }
            for (saleID, units) in returned { try Self.returnUnits(db, saleID: saleID, units: units) }
            return Dictionary(uniqueKeysWithValues: returned.compactMap { key, units in UUID(uuidString: key).map { ($0, units) } })
        }
    }

    static func returnUnits(_ db: Database, saleID: String, units: Int) throws {
        try db.cachedStatement(
            sql: "UPDATE inventory SET available = available + ?, reserved = reserved - ? WHERE sale_id = ?"
        ).execute(arguments: [units, units, saleID])
    }

    // MARK: Idempotency

    public func storedResponse(scope: String, key: String) async throws -> ReservationPlanner.StoredKey? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT fingerprint, status_code, body FROM idempotency_keys WHERE scope = ? AND key = ?",
                arguments: [scope, key]
            ).map {
                ReservationPlanner.StoredKey(
                    fingerprint: $0["fingerprint"], response: StoredResponse(status: $0["status_code"], body: $0["body"]))
            }
        }
    }

    public func purgeIdempotencyKeys(before cutoff: Date) async throws -> Int {
        try await commits.write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [cutoff.ms])
            return db.changesCount
        }
    }
}
