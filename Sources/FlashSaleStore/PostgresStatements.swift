import FlashSaleCore
import Foundation
import PostgresNIO

/// The statements of the reservation hot path. Every binding carries an explicit cast, so
/// that each can be prepared once per connection (`PostgresPreparedStatement`) or sent
/// in a pipelined group as an unnamed statement (`query`).
enum PostgresStatements {
    /// Takes the sale's advisory lock and reads its available units; `locked` false when
    /// another node holds the lock.
    struct LockAndRead: PostgresPreparedStatement {
        static let sql = """
            SELECT l.locked, i.available::bigint
            FROM (SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 11)) AS locked) l
            LEFT JOIN inventory i ON l.locked AND i.sale_id = $2::uuid
            """
        typealias Row = (Bool, Int?)
        var saleID: UUID

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(saleID.lowercased)
            bindings.append(saleID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Stored keys, units per customer and passes holding a live reservation, as tagged
    /// rows. Every fact is an index probe per element (LATERAL, scalar subqueries: a semi-join
    /// planned on a young table's statistics would scan the whole index for each batch):
    /// PostgreSQL 15 answers `col = ANY(array)` on a second index column by walking the
    /// first column's whole range, which grows with the sale.
    struct Facts: PostgresPreparedStatement {
        static let sql = """
            SELECT 'key', k.scope, k.key, k.fingerprint, k.status_code::bigint, k.body, NULL::uuid
            FROM unnest($2::text[], $3::text[]) AS t(scope, key)
            CROSS JOIN LATERAL (SELECT * FROM idempotency_keys k WHERE k.scope = t.scope AND k.key = t.key) k
            UNION ALL
            SELECT 'customer', c.key, NULL, NULL, c.units, NULL, NULL FROM (
                SELECT u.key, (
                    SELECT COALESCE(SUM(r.quantity), 0)::bigint FROM reservations r
                    WHERE r.sale_id = $1::uuid AND r.customer_key = u.key AND r.status IN ('held', 'paid')) AS units
                FROM unnest($4::text[]) AS u(key)) c
            WHERE c.units > 0
            UNION ALL
            SELECT 'pass', NULL, NULL, NULL, NULL, NULL, p.id FROM (
                SELECT u.id, (
                    SELECT true FROM reservations r
                    WHERE r.sale_id = $1::uuid AND r.pass_id = u.id AND r.status = 'held' LIMIT 1) AS holding
                FROM unnest($5::uuid[]) AS u(id)) p
            WHERE p.holding
            """
        typealias Row = (String, String?, String?, String?, Int?, Data?, UUID?)
        var saleID: UUID
        var attempts: [ReservationAttempt]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(saleID)
            bindings.append(attempts.map(\.idempotency.scope))
            bindings.append(attempts.map(\.idempotency.key))
            bindings.append(Array(Set(attempts.map(\.customerKey))))
            bindings.append(attempts.map(\.passID))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A batch's write: `flashsale_reserve_batch` (migration 10), the guarded decrement, the
    /// held rows and the idempotency records of `plan` in one statement. With `assumedClear`
    /// the statement takes the sale's advisory lock itself and writes only when the facts of
    /// those attempts are empty, as the plan assumed (`assumingClear`); without it the plan
    /// was made on facts read under the lock (or, for the naive baseline, under the row
    /// lock) and is written as it is, with no lock of its own. One row: `locked`, `clear`,
    /// `written`, and the sale's available units after the write (null when nothing was
    /// taken).
    struct ReserveBatch: PostgresPreparedStatement {
        static let sql = """
            SELECT locked, clear, written, available_after FROM flashsale_reserve_batch(
                $1::uuid, $2::timestamptz, $3::boolean, $4::boolean, $5::bigint,
                $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::timestamptz[],
                $13::text[], $14::text[], $15::text[], $16::bigint[], $17::text[],
                $18::text[], $19::text[], $20::text[], $21::uuid[])
            """
        typealias Row = (locked: Bool, clear: Bool, written: Bool, availableAfter: Int?)
        var saleID: UUID
        var now: Date
        var plan: ReservationPlanner.Plan
        /// The attempts whose facts the plan assumed empty; nil when it was made on read facts.
        var assumedClear: [ReservationAttempt]?

        /// `attempts` planned as if no key were stored, no customer held or bought units and
        /// no pass held a reservation, with no stock limit: what the statement checks under
        /// the sale's lock before it writes.
        static func assumingClear(_ attempts: [ReservationAttempt], saleID: UUID, now: Date) -> ReserveBatch {
            ReserveBatch(
                saleID: saleID, now: now, plan: ReservationPlanner.plan(attempts, facts: .init(available: .max)),
                assumedClear: attempts)
        }

        func makeBindings() throws -> PostgresBindings {
            let r = plan.reserved
            let keys = plan.newKeys
            let asked = assumedClear ?? []
            var bindings = PostgresBindings(capacity: 21)
            bindings.append(saleID)
            bindings.append(now)
            // The check is only sound under the lock, and the read way already holds one.
            bindings.append(assumedClear != nil)
            bindings.append(assumedClear != nil)
            bindings.append(plan.units)
            bindings.append(r.map(\.reservationID))
            bindings.append(r.map(\.passID))
            bindings.append(r.map(\.email))
            bindings.append(r.map(\.customerKey))
            bindings.append(r.map(\.quantity))
            bindings.append(r.map(\.amountCents))
            bindings.append(r.map(\.expiresAt))
            bindings.append(keys.map(\.claim.scope))
            bindings.append(keys.map(\.claim.key))
            bindings.append(keys.map(\.claim.fingerprint))
            bindings.append(keys.map(\.response.status))
            bindings.append(keys.map { String(decoding: $0.response.body, as: UTF8.self) })
            bindings.append(asked.map(\.idempotency.scope))
            bindings.append(asked.map(\.idempotency.key))
            bindings.append(Array(Set(asked.map(\.customerKey))))
            bindings.append(asked.map(\.passID))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Bool, Bool, Bool, Int?).self) }
    }
}

extension PostgresPreparedStatement {
    /// The statement as an unnamed query with its bindings, for a pipelined group.
    var query: PostgresQuery {
        get throws { PostgresQuery(unsafeSQL: Self.sql, binds: try makeBindings()) }
    }
}
