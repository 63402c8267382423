import Foundation

/// The PostgreSQL functions of the hot path, each created by one migration. Like every
/// migration, an applied one is never edited: a change is a new migration that replaces
/// the function.
extension PostgresSchema {
    /// Migration 9: a payment's begin as one statement (`PostgresStore.beginPayment`).
    static let beginPaymentFunction = """
        CREATE FUNCTION flashsale_begin_payment(
            p_id uuid, p_reservation_id uuid, p_sale_id uuid, p_email text, p_quantity bigint,
            p_amount_cents bigint, p_currency text, p_card text, p_address text, p_scope text, p_key text,
            p_fingerprint text, p_flags text[], p_now timestamptz, p_limit bigint)
        RETURNS TABLE (
            started boolean, existing_id uuid, in_flight boolean, card_units integer, address_units integer,
            r_id uuid, r_sale_id uuid, r_pass_id uuid, r_email text, r_customer_key text, r_quantity integer,
            r_amount_cents bigint, r_status text, r_created_at timestamptz, r_expires_at timestamptz)
        LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            PERFORM pg_advisory_xact_lock(k) FROM (
                SELECT DISTINCT k FROM unnest(ARRAY[
                    hashtextextended('reservation:' || p_reservation_id::text, 13),
                    hashtextextended('card:' || p_card, 13),
                    hashtextextended('address:' || p_address, 13)]) AS k
                ORDER BY k) AS keys;
            -- The sale is compared as text so that no index on sale_id serves a
            -- probe (migration 7); the card and the address each on their index.
            RETURN QUERY
            WITH facts AS (
                SELECT (SELECT id FROM payments WHERE idempotency_scope = p_scope
                            AND idempotency_key = p_key) AS existing_id,
                       EXISTS (SELECT 1 FROM payments WHERE reservation_id = p_reservation_id
                               AND status IN ('pending', 'unknown')) AS in_flight,
                       (SELECT COALESCE(SUM(quantity), 0)::int FROM payments
                        WHERE card_fingerprint = p_card AND sale_id::text = p_sale_id::text
                          AND reservation_id <> p_reservation_id
                          AND status IN ('pending', 'unknown', 'paid')) AS card_units,
                       (SELECT COALESCE(SUM(quantity), 0)::int FROM payments
                        WHERE address_key = p_address AND sale_id::text = p_sale_id::text
                          AND reservation_id <> p_reservation_id
                          AND status IN ('pending', 'unknown', 'paid')) AS address_units,
                       r.id AS r_id, r.sale_id AS r_sale_id, r.pass_id AS r_pass_id, r.email AS r_email,
                       r.customer_key AS r_customer_key, r.quantity AS r_quantity,
                       r.amount_cents AS r_amount_cents, r.status AS r_status,
                       r.created_at AS r_created_at, r.expires_at AS r_expires_at
                FROM (VALUES (1)) AS one LEFT JOIN reservations r ON r.id = p_reservation_id
            ), inserted AS (
                INSERT INTO payments (id, reservation_id, sale_id, status, email, quantity, amount_cents,
                    currency, card_fingerprint, address_key, idempotency_scope, idempotency_key,
                    request_fingerprint, created_at, updated_at, flags)
                SELECT p_id, p_reservation_id, p_sale_id, 'pending', p_email, p_quantity, p_amount_cents,
                    p_currency, p_card, p_address, p_scope, p_key, p_fingerprint, p_now, p_now, p_flags
                FROM facts
                WHERE facts.existing_id IS NULL AND facts.r_status = 'held' AND facts.r_expires_at > p_now
                  AND NOT facts.in_flight
                  AND facts.card_units + facts.r_quantity <= p_limit
                  AND facts.address_units + facts.r_quantity <= p_limit
                RETURNING 1
            )
            SELECT EXISTS (SELECT 1 FROM inserted), facts.existing_id, facts.in_flight, facts.card_units,
                facts.address_units, facts.r_id, facts.r_sale_id, facts.r_pass_id, facts.r_email,
                facts.r_customer_key, facts.r_quantity, facts.r_amount_cents, facts.r_status,
                facts.r_created_at, facts.r_expires_at
            FROM facts;
        END
        $$
        """

    /// Migration 10: a batch of reservations as one statement (`PostgresStore.commitReservations`).
    /// It takes the sale's advisory lock when asked (`p_take_lock`; nothing is written when
    /// another session holds it: `locked` false), and then, when asked (`p_expect_clear`),
    /// checks under it that the batch's facts are empty (no stored response under any of its
    /// keys, no held or paid units of any of its customers in the sale, no held reservation
    /// of any of its passes): that is the plan's assumption when it was made without reading
    /// them, and when one is not empty nothing is written (`clear` false). Then the guarded
    /// decrement (`written` false when fewer than `p_units` are available), the held rows
    /// and the idempotency records, and `available_after` the sale's units after it.
    ///
    /// Each query of a VOLATILE function takes a fresh snapshot (PostgreSQL manual,
    /// "Function Volatility Categories"), so the check sees every batch committed before
    /// the lock was got. The probes are one index probe per element (LATERAL with LIMIT, as
    /// `PostgresStatements.Facts`). Stored bodies are the contract's JSON, so they travel
    /// as UTF-8 text.
    static let reserveBatchFunction = """
        CREATE FUNCTION flashsale_reserve_batch(
            p_sale_id uuid, p_now timestamptz, p_take_lock boolean, p_expect_clear boolean, p_units bigint,
            p_ids uuid[], p_pass_ids uuid[], p_emails text[], p_customer_keys text[], p_quantities bigint[],
            p_amounts bigint[], p_expires timestamptz[],
            p_scopes text[], p_keys text[], p_fingerprints text[], p_status_codes bigint[], p_bodies text[],
            p_asked_scopes text[], p_asked_keys text[], p_asked_customers text[], p_asked_passes uuid[])
        RETURNS TABLE (locked boolean, clear boolean, written boolean, available_after bigint)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            v_available bigint;
        BEGIN
            IF p_take_lock AND NOT pg_try_advisory_xact_lock(hashtextextended(p_sale_id::text, 11)) THEN
                RETURN QUERY SELECT false, false, false, NULL::bigint;
                RETURN;
            END IF;
            IF p_expect_clear AND (
                EXISTS (SELECT 1 FROM unnest(p_asked_scopes, p_asked_keys) AS t(scope, key)
                        CROSS JOIN LATERAL (SELECT 1 FROM idempotency_keys k
                                            WHERE k.scope = t.scope AND k.key = t.key LIMIT 1) AS k)
                OR EXISTS (SELECT 1 FROM unnest(p_asked_customers) AS u(key)
                        CROSS JOIN LATERAL (SELECT 1 FROM reservations r
                                            WHERE r.sale_id = p_sale_id AND r.customer_key = u.key
                                              AND r.status IN ('held', 'paid') LIMIT 1) AS r)
                OR EXISTS (SELECT 1 FROM unnest(p_asked_passes) AS u(id)
                        CROSS JOIN LATERAL (SELECT 1 FROM reservations r
                                            WHERE r.sale_id = p_sale_id AND r.pass_id = u.id
                                              AND r.status = 'held' LIMIT 1) AS r))
            THEN
                RETURN QUERY SELECT true, false, false, NULL::bigint;
                RETURN;
            END IF;
            IF p_units > 0 THEN
                UPDATE inventory AS i SET available = i.available - p_units, taken = i.taken + p_units
                WHERE i.sale_id = p_sale_id AND i.available >= p_units
                RETURNING i.available INTO v_available;
                IF NOT FOUND THEN
                    RETURN QUERY SELECT true, true, false, NULL::bigint;
                    RETURN;
                END IF;
                INSERT INTO reservations (id, sale_id, pass_id, email, customer_key, quantity, amount_cents,
                    status, created_at, expires_at)
                SELECT t.id, p_sale_id, t.pass_id, t.email, t.customer_key, t.quantity, t.amount_cents, 'held',
                    p_now, t.expires_at
                FROM unnest(p_ids, p_pass_ids, p_emails, p_customer_keys, p_quantities, p_amounts, p_expires)
                    AS t(id, pass_id, email, customer_key, quantity, amount_cents, expires_at);
            END IF;
            -- Recorded with the units taken, or when the batch takes none (its answers are
            -- refusals).
            INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, body, created_at)
            SELECT t.scope, t.key, t.fingerprint, t.status_code, convert_to(t.body, 'UTF8'), p_now
            FROM unnest(p_scopes, p_keys, p_fingerprints, p_status_codes, p_bodies)
                AS t(scope, key, fingerprint, status_code, body)
            ON CONFLICT (scope, key) DO NOTHING;
            RETURN QUERY SELECT true, true, true, v_available;
        END
        $$
        """
}
