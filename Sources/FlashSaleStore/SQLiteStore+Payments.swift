import FlashSaleCore
import Foundation
import GRDB

extension SQLiteStore {
    // SQLite's single writer serialises every transaction below: the per-sale lock that
    // PostgreSQL takes explicitly is implicit here.

    public func payment(id: UUID) async throws -> PaymentRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM payments WHERE id = ?", arguments: [id.lowercased]).map(Self.payment)
        }
    }

    public func payment(scope: String, key: String) async throws -> PaymentRecord? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM payments WHERE idempotency_scope = ? AND idempotency_key = ?", arguments: [scope, key]
            ).map(Self.payment)
        }
    }

    public func beginPayment(_ payment: PaymentRecord, perCustomerLimit: Int, now: Date) async throws -> BeginPayment {
        try await commits.write { db in
            if let existing = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM payments WHERE idempotency_scope = ? AND idempotency_key = ?"),
                arguments: [payment.idempotency.scope, payment.idempotency.key]
            ) {
                return .existing(try Self.payment(existing))
            }
            let reservation = try Self.reservation(db, id: payment.reservationID)
            let inFlight = try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT EXISTS (SELECT 1 FROM payments WHERE reservation_id = ? AND status IN ('pending', 'unknown'))"),
                arguments: [payment.reservationID.lowercased]) ?? false
            let units = try Row.fetchOne(
                db.cachedStatement(sql: Self.customerUnitsSQL),
                arguments: [
                    payment.saleID.lowercased, payment.cardFingerprint, payment.addressKey, payment.reservationID.lowercased,
                ])
            let facts = PaymentPlanner.Facts(
                reservation: reservation, perCustomerLimit: perCustomerLimit, attemptInFlight: inFlight,
                cardUnits: units?["card"] ?? 0, addressUnits: units?["address"] ?? 0)
            if let refusal = PaymentPlanner.refusal(facts, now: now) { return .refused(refusal) }
            try db.cachedStatement(
                sql: """
                    INSERT INTO payments (id, reservation_id, sale_id, status, email, quantity, amount_cents, currency,
                        card_fingerprint, address_key, idempotency_scope, idempotency_key, request_fingerprint,
                        created_at, updated_at, flags)
                    VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    payment.id.lowercased, payment.reservationID.lowercased, payment.saleID.lowercased, payment.email,
                    payment.quantity, payment.amountCents, payment.currency, payment.cardFingerprint, payment.addressKey,
                    payment.idempotency.scope, payment.idempotency.key, payment.idempotency.fingerprint, now.ms, now.ms,
                    try Self.flagsText(payment.flags),
                ])
            return .started(payment.started(at: now))
        }
    }

    /// Units the sale's other live payments hold on this card (`card`) and on this shipping
    /// address (`address`); arguments: sale id, card fingerprint, address key, reservation id.
    /// Two index probes (payments_card, payments_address): one query with `card = ? OR
    /// address = ?` was planned on the sale_id prefix alone and read every payment of the
    /// sale, so each payment of a drop cost more than the last (issue 15).
    static let customerUnitsSQL = """
        SELECT (SELECT COALESCE(SUM(quantity), 0) FROM payments
                WHERE sale_id = ?1 AND card_fingerprint = ?2 AND reservation_id <> ?4
                  AND status IN ('pending', 'unknown', 'paid')) AS card,
               (SELECT COALESCE(SUM(quantity), 0) FROM payments
                WHERE sale_id = ?1 AND address_key = ?3 AND reservation_id <> ?4
                  AND status IN ('pending', 'unknown', 'paid')) AS address
        """

    public func settlePayment(id: UUID, result: ChargeResult, now: Date, hint: SettlementHint?) async throws -> PaymentRecord? {
        // The hint goes unused: the reads run inside the single writer's transaction, with
        // no round trip to save.
        try await commits.write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM payments WHERE id = ?"), arguments: [id.lowercased])
            else {
                return nil
            }
            var payment = try Self.payment(row)
            guard let step = PaymentSettlement.step(for: payment, result: result) else { return payment }
            if let charge = PaymentSettlement.begin(step, on: &payment) {
                let reservation = try Self.reservation(db, id: payment.reservationID)
                var refusal = charge.refusal(reservation: reservation, now: now)
                if refusal == nil {
                    try db.cachedStatement(
                        sql: "UPDATE reservations SET status = 'paid', closed_at = ? WHERE id = ? AND status = 'held'"
                    ).execute(
                        arguments: [now.ms, payment.reservationID.lowercased])
                    if db.changesCount == 1 {
                        try db.cachedStatement(
                            sql: "UPDATE inventory SET reserved = reserved - ?, sold = sold + ? WHERE sale_id = ?"
                        ).execute(
                            arguments: [payment.quantity, payment.quantity, payment.saleID.lowercased])
                    } else {
                        refusal = .reservationExpired
                    }
                }
                PaymentSettlement.apply(refusal: refusal, to: &payment)
                try Self.enqueue(db, kind: refusal == nil ? .confirmationEmail : .refund, paymentID: id, now: now)
            }
            payment.updatedAt = now
            try db.cachedStatement(
                sql: """
                    UPDATE payments SET status = ?, charge_id = ?, response_status = ?, response_body = ?, updated_at = ?
                    WHERE id = ?
                    """
            ).execute(
                arguments: [
                    payment.status.rawValue, payment.chargeID, payment.response?.status, payment.response?.body, now.ms,
                    id.lowercased,
                ])
            return payment
        }
    }

    public func markRefunded(paymentID: UUID, now: Date) async throws {
        try await commits.write { db in
            try db.execute(
                sql: "UPDATE payments SET status = 'refunded', updated_at = ? WHERE id = ? AND status = 'refunding'",
                arguments: [now.ms, paymentID.lowercased])
        }
    }

    public func unresolvedPayments(updatedBefore cutoff: Date, limit: Int) async throws -> [PaymentRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM payments WHERE status IN ('pending', 'unknown') AND updated_at < ?
                    ORDER BY updated_at LIMIT ?
                    """,
                arguments: [cutoff.ms, limit]
            ).map(Self.payment)
        }
    }

    public func paymentCounts(saleID: UUID) async throws -> PaymentCounts {
        try await writer.read { db in
            var counts = PaymentCounts()
            for row in try Row.fetchAll(
                db, sql: "SELECT status, COUNT(*) AS n FROM payments WHERE sale_id = ? GROUP BY status",
                arguments: [saleID.lowercased])
            {
                if let status = PaymentRecord.Status(rawValue: row["status"]) { counts.add(status, count: row["n"]) }
            }
            return counts
        }
    }

    public func orders(flagged: Bool, saleID: UUID?, limit: Int) async throws -> [PaymentRecord] {
        // The flagged filter is written as the partial index's predicate, so SQLite can use it.
        var conditions = ["status IN (\(PaymentRecord.orderStatusList))"]
        var arguments = StatementArguments()
        if flagged { conditions.append("flags <> '[]'") }
        if let saleID {
            conditions.append("sale_id = ?")
            arguments += [saleID.lowercased]
        }
        arguments += [limit]
        let sql = """
            SELECT * FROM payments WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, id DESC LIMIT ?
            """
        return try await writer.read { [arguments] db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.payment) }
    }

    public func cancelOrder(id: UUID, now: Date) async throws -> CancelOrderResult {
        try await commits.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM payments WHERE id = ?", arguments: [id.lowercased]) else {
                return .notFound
            }
            var payment = try Self.payment(row)
            switch payment.status {
            case .paid: break
            case .refunding, .refunded: return .alreadyCancelled(payment)
            case .pending, .unknown, .declined, .failed: return .notCancellable(payment)
            }
            payment.status = .refunding
            payment.updatedAt = now
            try db.execute(
                sql: "UPDATE payments SET status = 'refunding', updated_at = ? WHERE id = ?", arguments: [now.ms, id.lowercased])
            try Self.enqueue(db, kind: .refund, paymentID: id, now: now)
            try db.execute(
                sql: "UPDATE reservations SET status = 'cancelled', closed_at = ? WHERE id = ? AND status = 'paid'",
                arguments: [now.ms, payment.reservationID.lowercased])
            // A paid attempt's reservation is paid; should it not be, there are no sold units to return.
            let units = db.changesCount == 1 ? payment.quantity : 0
            if units > 0 {
                try db.execute(
                    sql: "UPDATE inventory SET sold = sold - ?, available = available + ? WHERE sale_id = ?",
                    arguments: [units, units, payment.saleID.lowercased])
            }
            return .cancelled(saleID: payment.saleID, units: units, payment: payment)
        }
    }

    // MARK: Outbox

    public func claimOutbox(now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxMessage] {
        try await commits.write { db in
            try Row.fetchAll(
                db,
                sql: """
                    UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
                    WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
                                 ORDER BY next_attempt_at LIMIT ?)
                    RETURNING id, kind, payment_id, attempts, created_at
                    """,
                arguments: [now.addingTimeInterval(lease).ms, now.ms, limit]
            ).map { row in
                guard let id = UUID(uuidString: row["id"]), let kind = OutboxMessage.Kind(rawValue: row["kind"]),
                    let payment = UUID(uuidString: row["payment_id"])
                else { throw StoreError.corruptRow("outbox \(row)") }
                return OutboxMessage(id: id, kind: kind, paymentID: payment, attempts: row["attempts"], createdAt: Date(ms: row["created_at"]))
            }
        }
    }

    public func completeOutbox(id: UUID, now: Date) async throws {
        try await commits.write { db in
            try db.execute(
                sql: "UPDATE outbox SET status = 'done', delivered_at = ?, last_error = NULL WHERE id = ?",
                arguments: [now.ms, id.lowercased])
        }
    }

    public func retryOutbox(id: UUID, error: String, at: Date) async throws {
        try await commits.write { db in
            try db.execute(
                sql: "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
                arguments: [at.ms, String(error.prefix(500)), id.lowercased])
        }
    }

    /// At most one message of each kind per payment: enqueueing twice is harmless.
    static func enqueue(_ db: Database, kind: OutboxMessage.Kind, paymentID: UUID, now: Date) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox (id, kind, payment_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (payment_id, kind) DO NOTHING
                """
        ).execute(
            arguments: [UUID.timeOrdered().lowercased, kind.rawValue, paymentID.lowercased, now.ms, now.ms])
    }

    static func payment(_ row: Row) throws -> PaymentRecord {
        guard let id = UUID(uuidString: row["id"]), let reservation = UUID(uuidString: row["reservation_id"]),
            let sale = UUID(uuidString: row["sale_id"]), let status = PaymentRecord.Status(rawValue: row["status"])
        else { throw StoreError.corruptRow("payment \(row)") }
        let responseStatus: Int? = row["response_status"]
        let responseBody: Data? = row["response_body"]
        return PaymentRecord(
            id: id, reservationID: reservation, saleID: sale, status: status, email: row["email"], quantity: row["quantity"],
            amountCents: row["amount_cents"], currency: row["currency"], cardFingerprint: row["card_fingerprint"],
            addressKey: row["address_key"], chargeID: row["charge_id"],
            idempotency: IdempotencyClaim(
                scope: row["idempotency_scope"], key: row["idempotency_key"], fingerprint: row["request_fingerprint"]),
            response: responseStatus.map { StoredResponse(status: $0, body: responseBody ?? Data()) },
            createdAt: Date(ms: row["created_at"]), updatedAt: Date(ms: row["updated_at"]), flags: try flags(row["flags"]))
    }

    /// Flags as stored: a JSON array of codes, `[]` for none (most payments: no decoding).
    static func flagsText(_ flags: [String]) throws -> String {
        flags.isEmpty ? "[]" : String(decoding: try JSONEncoder().encode(flags), as: UTF8.self)
    }

    static func flags(_ text: String) throws -> [String] {
        text == "[]" ? [] : try JSONDecoder().decode([String].self, from: Data(text.utf8))
    }
}
