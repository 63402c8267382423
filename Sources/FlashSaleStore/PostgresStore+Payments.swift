import FlashSaleCore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    public func payment(id: UUID) async throws -> PaymentRecord? {
        try await firstPayment(client.query("SELECT * FROM payments WHERE id = \(id)", logger: logger))
    }

    public func payment(scope: String, key: String) async throws -> PaymentRecord? {
        try await firstPayment(
            client.query(
                "SELECT * FROM payments WHERE idempotency_scope = \(scope) AND idempotency_key = \(key)", logger: logger))
    }

    public func beginPayment(_ payment: PaymentRecord, perCustomerLimit: Int, now: Date) async throws -> BeginPayment {
        // Attempts that could break each other's checks take turns: the same reservation
        // (one attempt in flight, one idempotency key), the same card, the same shipping
        // address (the per-customer limit). Others run side by side: one lock per sale
        // made every payment of a drop queue behind the last (issue 15). The function
        // (migration 9) takes the locks in key order, so two attempts never wait for each
        // other in a cycle, and decides under them; one statement in autocommit, whose
        // lease the pool gets back on the connection's event loop.
        let call = Self.beginFunctionCall(payment, perCustomerLimit: perCustomerLimit, now: now)
        let rows = try await client.query(call, logger: logger).collect()
        guard let row = rows.first else { throw StoreError.corruptRow("the begin's facts came back empty") }
        let r = row.makeRandomAccess()
        if let existingID = try r["existing_id"].decode(UUID?.self) {
            // A retry under the same key: rare, so read apart.
            guard let existing = try await self.payment(id: existingID) else {
                throw StoreError.corruptRow("payment \(existingID.lowercased) vanished")
            }
            return .existing(existing)
        }
        let facts = PaymentPlanner.Facts(
            reservation: try Self.reservation(r, prefix: "r_"), perCustomerLimit: perCustomerLimit,
            attemptInFlight: try r["in_flight"].decode(Bool.self), cardUnits: try r["card_units"].decode(Int.self),
            addressUnits: try r["address_units"].decode(Int.self))
        let refusal = PaymentPlanner.refusal(facts, now: now)
        let started = try r["started"].decode(Bool.self)
        // The statement's guard spells PaymentPlanner.refusal in SQL; the two read the
        // same facts and must agree (PaymentStoreConformanceTests cover each refusal).
        guard started == (refusal == nil) else {
            throw StoreError.corruptRow("the begin's guard (started: \(started)) and PaymentPlanner (\(refusal?.code ?? "start")) disagree")
        }
        if let refusal { return .refused(refusal) }
        return .started(payment.started(at: now))
    }

    /// `beginPayment`'s statement: `flashsale_begin_payment` (migration 9) takes the
    /// attempt's locks, reads the facts and, when they allow it, stores the attempt as
    /// `pending`. One row: `started` (the attempt was stored), the facts (`existing_id`,
    /// `in_flight`, `card_units`, `address_units`) and the `r_`-prefixed reservation (nulls
    /// when there is none).
    ///
    /// The guard is `PaymentPlanner.refusal` in SQL: no attempt under the key, a held and
    /// unexpired reservation, none in flight, and the card's and the address's units within
    /// `perCustomerLimit`. The units are two index probes, on payments_card and
    /// payments_address (migration 7); the sale is compared as text so that no index on
    /// sale_id can serve a probe: while a sale is young its id is in no statistics, the
    /// planner rates any sale_id index at one row, and a probe planned on one reads every
    /// payment of the sale (issue 15; `PaymentLimitPlanTests`). (A single `card = ? OR
    /// address = ?` reads every payment of the sale on SQLite; two probes keep the stores
    /// alike.)
    static func beginFunctionCall(_ payment: PaymentRecord, perCustomerLimit: Int, now: Date) -> PostgresQuery {
        """
        SELECT * FROM flashsale_begin_payment(\(payment.id), \(payment.reservationID), \(payment.saleID),
            \(payment.email), \(payment.quantity), \(payment.amountCents), \(payment.currency),
            \(payment.cardFingerprint), \(payment.addressKey), \(payment.idempotency.scope),
            \(payment.idempotency.key), \(payment.idempotency.fingerprint), \(payment.flags), \(now), \(perCustomerLimit))
        """
    }

    public func settlePayment(id: UUID, result: ChargeResult, now: Date, hint: SettlementHint?) async throws -> PaymentRecord? {
        // Optimistic, in autocommit: read the payment and its reservation without locks,
        // decide, then write with a statement whose guards re-check what the decision
        // rested on; when they fail (another settler or the sweeper came first), read again.
        // No lock is held across a round trip: a transaction that held the sale's inventory
        // row until its COMMIT arrived queued every other settlement behind it, and kept
        // the row's dead versions from being pruned (issue 15).
        // Checkout's hint stands in for the first read when it decides a sale or no charge:
        // the guards confirm the attempt is as begun and the reservation held. Its write is
        // one statement on a lease of its own, which the pool gets back on the connection's
        // event loop when the answer arrives (not after a wake-up of this task: issue 15).
        // A refund is decided on a fresh read, so that its reason is the stored one.
        if let hint, let decision = Self.settlement(hint.payment, hint.reservation, result: result, now: now),
            !decision.refunds
        {
            let writes = try Self.settlementWrites(decision, from: hint.payment.status, now: now)
            if try Self.written(await client.query(writes, logger: logger).collect()) { return decision.payment }
        }
        // Otherwise one connection for the reads and writes: each lease from the pool waits
        // for this task to be scheduled again, which on a saturated machine costs more than
        // a round trip.
        let logger = self.logger
        return try await client.withConnection { conn -> PaymentRecord? in
            for _ in 0..<Self.settlementAttempts {
                var payment: PaymentRecord?
                var reservation: ReservationRecord?
                for try await row in try await conn.query(
                    """
                    SELECT p.*, \(unescaped: Self.reservationColumns(table: "r", prefix: "r_"))
                    FROM payments p LEFT JOIN reservations r ON r.id = p.reservation_id WHERE p.id = \(id)
                    """, logger: logger)
                {
                    payment = try Self.payment(row)
                    reservation = try Self.reservation(row.makeRandomAccess(), prefix: "r_")
                }
                guard let payment else { return nil }
                guard let decision = Self.settlement(payment, reservation, result: result, now: now) else { return payment }
                let writes = try Self.settlementWrites(decision, from: payment.status, now: now)
                if try Self.written(await conn.query(writes, logger: logger).collect()) { return decision.payment }
            }
            throw StoreError.settlementContended(id)
        }
    }

    /// A settlement decided on what was read: the attempt as it is to be written, whether
    /// its reservation is sold, and the outbox message to queue. Nil when `result` changes
    /// nothing (the attempt is settled already).
    private struct Settlement {
        var payment: PaymentRecord
        var sell = false
        var message: OutboxMessage.Kind?
        var refunds: Bool { message == .refund }
    }

    private static func settlement(
        _ read: PaymentRecord, _ reservation: ReservationRecord?, result: ChargeResult, now: Date
    ) -> Settlement? {
        guard let step = PaymentSettlement.step(for: read, result: result) else { return nil }
        var decision = Settlement(payment: read)
        if let charge = PaymentSettlement.begin(step, on: &decision.payment) {
            // Sold only while the reservation is held, which the statement re-checks
            // under the reservation's row lock: expiry and cancellation take it too.
            let refusal = charge.refusal(reservation: reservation, now: now)
            PaymentSettlement.apply(refusal: refusal, to: &decision.payment)
            decision.sell = refusal == nil
            decision.message = refusal == nil ? .confirmationEmail : .refund
        }
        decision.payment.updatedAt = now
        return decision
    }

    /// Whether `settlementWrites` made its writes (its one row says 1).
    private static func written(_ rows: some Sequence<PostgresRow>) throws -> Bool {
        try rows.contains { try $0.decode(Int.self) == 1 }
    }

    /// Settlements of one payment that may find it changed under them before one goes
    /// through; each retry follows another writer's commit, so a few suffice.
    static let settlementAttempts = 16

    /// `decision`'s writes in one statement, run in autocommit: 1 when they were made,
    /// 0 when a guard failed and nothing was written. The guards: the payment still has the
    /// status `from` the decision read (its row locked first, as `cancelOrder` does), and,
    /// when the decision sells, the reservation is still held. Then the held reservation
    /// becomes paid (which moves its units from reserved to sold: the sale's inventory row
    /// counts them as taken either way, so it is not written); the payment's row is
    /// written; the decision's outbox message, if any (the confirmation email or the
    /// refund), is queued. Locks are taken payment, then reservation, the order expiry and
    /// cancellation also follow, and released when the statement commits, inside the
    /// database.
    private static func settlementWrites(_ decision: Settlement, from status: PaymentRecord.Status, now: Date) throws -> PostgresQuery {
        let (payment, sell, kind) = (decision.payment, decision.sell, decision.message?.rawValue)
        return try """
        WITH current AS (
            SELECT id FROM payments WHERE id = \(payment.id) AND status = \(status.rawValue) FOR UPDATE
        ), paid AS (
            UPDATE reservations SET status = 'paid', closed_at = \(now)
            WHERE id = \(payment.reservationID) AND status = 'held' AND \(sell) AND EXISTS (SELECT 1 FROM current)
            RETURNING quantity
        ), settled AS (
            UPDATE payments SET status = \(payment.status.rawValue), charge_id = \(payment.chargeID),
                response_status = \(payment.response?.status), response_body = \(payment.response?.body),
                updated_at = \(payment.updatedAt)
            WHERE id = \(payment.id) AND EXISTS (SELECT 1 FROM current) AND (NOT \(sell) OR EXISTS (SELECT 1 FROM paid))
            RETURNING id
        ), message AS (
            INSERT INTO outbox (id, kind, payment_id, next_attempt_at, created_at)
            SELECT \(UUID.timeOrdered()), m.kind, settled.id, \(now), \(now)
            FROM settled, (SELECT \(kind)::text AS kind) AS m WHERE m.kind IS NOT NULL
            ON CONFLICT (payment_id, kind) DO NOTHING
        )
        SELECT COUNT(*)::int FROM settled
        """
    }

    public func markRefunded(paymentID: UUID, now: Date) async throws {
        try await backgroundClient.query(
            "UPDATE payments SET status = 'refunded', updated_at = \(now) WHERE id = \(paymentID) AND status = 'refunding'",
            logger: logger
        ).drain()
    }

    public func unresolvedPayments(updatedBefore cutoff: Date, limit: Int) async throws -> [PaymentRecord] {
        let rows = try await backgroundClient.query(
            """
            SELECT * FROM payments WHERE status IN ('pending', 'unknown') AND updated_at < \(cutoff)
            ORDER BY updated_at LIMIT \(limit)
            """, logger: logger)
        var payments: [PaymentRecord] = []
        for try await row in rows { payments.append(try Self.payment(row)) }
        return payments
    }

    public func paymentCounts(saleID: UUID) async throws -> PaymentCounts {
        var counts = PaymentCounts()
        for try await (status, count) in try await backgroundClient.query(
            "SELECT status, COUNT(*)::int FROM payments WHERE sale_id = \(saleID) GROUP BY status", logger: logger
        ).decode((String, Int).self) {
            if let status = PaymentRecord.Status(rawValue: status) { counts.add(status, count: count) }
        }
        return counts
    }

    public func orders(flagged: Bool, saleID: UUID?, limit: Int) async throws -> [PaymentRecord] {
        // The flagged filter is written as the partial index's predicate, so the planner can use it.
        var sql = "SELECT * FROM payments WHERE status IN (\(PaymentRecord.orderStatusList))"
        var bindings = PostgresBindings()
        if flagged { sql += " AND cardinality(flags) > 0" }
        if let saleID {
            bindings.append(saleID)
            sql += " AND sale_id = $\(bindings.count)"
        }
        bindings.append(limit)
        sql += " ORDER BY created_at DESC, id DESC LIMIT $\(bindings.count)"
        var orders: [PaymentRecord] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
            orders.append(try Self.payment(row))
        }
        return orders
    }

    public func cancelOrder(id: UUID, now: Date) async throws -> CancelOrderResult {
        // One statement, so one round trip and atomic: the payment's row lock (taken first,
        // as settlePayment does) makes a concurrent second cancel find it refunding, and the
        // sale's inventory row is locked last and only until this statement commits.
        let rows = try await client.query(
            """
            WITH p AS (
                UPDATE payments SET status = 'refunding', updated_at = \(now)
                WHERE id = \(id) AND status = 'paid' RETURNING *
            ), refund AS (
                INSERT INTO outbox (id, kind, payment_id, next_attempt_at, created_at)
                SELECT \(UUID.timeOrdered()), 'refund', p.id, \(now), \(now) FROM p
                ON CONFLICT (payment_id, kind) DO NOTHING
            ), r AS (
                UPDATE reservations SET status = 'cancelled', closed_at = \(now)
                FROM p WHERE reservations.id = p.reservation_id AND reservations.status = 'paid'
                RETURNING reservations.sale_id, reservations.quantity
            ), stock AS (
                UPDATE inventory i SET taken = i.taken - r.quantity, available = i.available + r.quantity
                FROM r WHERE i.sale_id = r.sale_id RETURNING r.quantity
            )
            SELECT p.*, COALESCE((SELECT quantity FROM stock), 0)::int AS returned_units FROM p
            """, logger: logger)
        for try await row in rows {
            let payment = try Self.payment(row)
            let units = try row.makeRandomAccess()["returned_units"].decode(Int.self)
            return .cancelled(saleID: payment.saleID, units: units, payment: payment)
        }
        guard let payment = try await payment(id: id) else { return .notFound }
        switch payment.status {
        // Settled as paid since the statement above: cancel it now.
        case .paid: return try await cancelOrder(id: id, now: now)
        case .refunding, .refunded: return .alreadyCancelled(payment)
        case .pending, .unknown, .declined, .failed: return .notCancellable(payment)
        }
    }

    // MARK: Outbox

    public func claimOutbox(now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxMessage] {
        // SKIP LOCKED: workers on several nodes claim disjoint messages without waiting.
        let rows = try await backgroundClient.query(
            """
            UPDATE outbox SET attempts = attempts + 1, next_attempt_at = \(now.addingTimeInterval(lease))
            WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= \(now)
                         ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, payment_id, attempts, created_at
            """, logger: logger)
        var messages: [OutboxMessage] = []
        for try await (id, kind, payment, attempts, createdAt) in rows.decode((UUID, String, UUID, Int, Date).self) {
            guard let kind = OutboxMessage.Kind(rawValue: kind) else { throw StoreError.corruptRow("outbox kind \(kind)") }
            messages.append(OutboxMessage(id: id, kind: kind, paymentID: payment, attempts: attempts, createdAt: createdAt))
        }
        return messages
    }

    public func completeOutbox(id: UUID, now: Date) async throws {
        try await backgroundClient.query(
            "UPDATE outbox SET status = 'done', delivered_at = \(now), last_error = NULL WHERE id = \(id)", logger: logger
        ).drain()
    }

    public func retryOutbox(id: UUID, error: String, at: Date) async throws {
        try await backgroundClient.query(
            """
            UPDATE outbox SET next_attempt_at = \(at), last_error = \(String(error.prefix(500)))
            WHERE id = \(id) AND status = 'pending'
            """, logger: logger
        ).drain()
    }

    private func firstPayment(_ rows: PostgresRowSequence) async throws -> PaymentRecord? {
        try await Self.firstPayment(rows)
    }

    static func firstPayment(_ rows: PostgresRowSequence) async throws -> PaymentRecord? {
        var found: PaymentRecord?
        for try await row in rows where found == nil { found = try payment(row) }
        return found
    }

    static func payment(_ row: PostgresRow) throws -> PaymentRecord {
        let r = row.makeRandomAccess()
        guard let status = PaymentRecord.Status(rawValue: try r["status"].decode(String.self)) else {
            throw StoreError.corruptRow("payment status")
        }
        let responseStatus = try r["response_status"].decode(Int?.self)
        let responseBody = try r["response_body"].decode(Data?.self)
        return PaymentRecord(
            id: try r["id"].decode(UUID.self), reservationID: try r["reservation_id"].decode(UUID.self),
            saleID: try r["sale_id"].decode(UUID.self), status: status, email: try r["email"].decode(String.self),
            quantity: try r["quantity"].decode(Int.self), amountCents: try r["amount_cents"].decode(Int.self),
            currency: try r["currency"].decode(String.self), cardFingerprint: try r["card_fingerprint"].decode(String.self),
            addressKey: try r["address_key"].decode(String.self), chargeID: try r["charge_id"].decode(String?.self),
            idempotency: IdempotencyClaim(
                scope: try r["idempotency_scope"].decode(String.self), key: try r["idempotency_key"].decode(String.self),
                fingerprint: try r["request_fingerprint"].decode(String.self)),
            response: responseStatus.map { StoredResponse(status: $0, body: responseBody ?? Data()) },
            createdAt: try r["created_at"].decode(Date.self), updatedAt: try r["updated_at"].decode(Date.self),
            flags: try r["flags"].decode([String].self))
    }
}
