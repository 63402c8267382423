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

    /// The guarded decrement, the held rows and the idempotency records in one statement.
    /// Stored bodies are the JSON of the contract, so they travel as UTF-8 text.
    struct Write: PostgresPreparedStatement {
        static let sql = """
            WITH decrement AS (
                UPDATE inventory SET available = available - $1::bigint, taken = taken + $1::bigint
                WHERE sale_id = $2::uuid AND available >= $1::bigint AND $1::bigint > 0 RETURNING 1
            ), held AS (
                INSERT INTO reservations (id, sale_id, pass_id, email, customer_key, quantity, amount_cents,
                    status, created_at, expires_at)
                SELECT id, $2::uuid, pass_id, email, customer_key, quantity, amount_cents, 'held', $3::timestamptz, expires_at
                FROM unnest($4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::timestamptz[])
                    AS t(id, pass_id, email, customer_key, quantity, amount_cents, expires_at)
                WHERE EXISTS (SELECT 1 FROM decrement)
                RETURNING 1
            ), recorded AS (
                -- Recorded with the units taken, or when the batch takes none (its answers
                -- are refusals): a failed guard writes nothing.
                INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, body, created_at)
                SELECT scope, key, fingerprint, status_code, convert_to(body, 'UTF8'), $3::timestamptz
                FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[])
                    AS t(scope, key, fingerprint, status_code, body)
                WHERE $1::bigint = 0 OR EXISTS (SELECT 1 FROM decrement)
                ON CONFLICT (scope, key) DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM decrement)::bigint
            """
        typealias Row = Int
        var saleID: UUID
        var now: Date
        var plan: ReservationPlanner.Plan

        func makeBindings() throws -> PostgresBindings {
            let r = plan.reserved
            let keys = plan.newKeys
            var bindings = PostgresBindings(capacity: 15)
            bindings.append(plan.units)
            bindings.append(saleID)
            bindings.append(now)
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
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int.self) }
    }
}

extension PostgresPreparedStatement {
    /// The statement as an unnamed query with its bindings, for a pipelined group.
    var query: PostgresQuery {
        get throws { PostgresQuery(unsafeSQL: Self.sql, binds: try makeBindings()) }
    }
}
