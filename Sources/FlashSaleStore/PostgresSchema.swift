import Foundation
import Logging
import PostgresNIO

/// Versioned PostgreSQL migrations, applied under an advisory lock so that nodes starting
/// together migrate once. Append new ones; never edit an applied one.
enum PostgresSchema {
    static let migrations: [(version: Int, name: String, sql: [String])] = [
        (
            1, "sales, inventory, reservations, idempotency keys",
            [
                """
                CREATE TABLE sales (
                    id uuid PRIMARY KEY,
                    sku text NOT NULL,
                    name text NOT NULL,
                    price_cents bigint NOT NULL CHECK (price_cents >= 0),
                    currency text NOT NULL,
                    quantity integer NOT NULL CHECK (quantity >= 1),
                    starts_at timestamptz NOT NULL,
                    ends_at timestamptz NOT NULL,
                    per_customer_limit integer NOT NULL CHECK (per_customer_limit >= 1),
                    reservation_ttl_seconds integer NOT NULL CHECK (reservation_ttl_seconds >= 1),
                    admission_rate_per_second integer NOT NULL CHECK (admission_rate_per_second >= 1),
                    paused boolean NOT NULL DEFAULT false,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    CHECK (ends_at > starts_at)
                )
                """,
                "CREATE INDEX sales_sku_window ON sales (sku, starts_at)",
                // The hot row of a sale, kept narrow. The CHECK is invariant 1.
                """
                CREATE TABLE inventory (
                    sale_id uuid PRIMARY KEY REFERENCES sales (id),
                    quantity integer NOT NULL,
                    available integer NOT NULL,
                    reserved integer NOT NULL,
                    sold integer NOT NULL,
                    CHECK (available >= 0 AND reserved >= 0 AND sold >= 0 AND available + reserved + sold = quantity)
                )
                """,
                """
                CREATE TABLE reservations (
                    id uuid PRIMARY KEY,
                    sale_id uuid NOT NULL REFERENCES sales (id),
                    pass_id uuid NOT NULL,
                    email text NOT NULL,
                    customer_key text NOT NULL,
                    quantity integer NOT NULL CHECK (quantity >= 1),
                    amount_cents bigint NOT NULL,
                    status text NOT NULL CHECK (status IN ('held', 'paid', 'cancelled', 'expired')),
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    closed_at timestamptz
                )
                """,
                "CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE status = 'held'",
                "CREATE INDEX reservations_customer ON reservations (sale_id, customer_key)",
                "CREATE UNIQUE INDEX reservations_live_pass ON reservations (sale_id, pass_id) WHERE status = 'held'",
                """
                CREATE TABLE idempotency_keys (
                    scope text NOT NULL,
                    key text NOT NULL,
                    fingerprint text NOT NULL,
                    status_code integer NOT NULL,
                    body bytea NOT NULL,
                    created_at timestamptz NOT NULL,
                    PRIMARY KEY (scope, key)
                )
                """,
                "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
            ]
        ),
        (
            2, "payments and the outbox",
            [
                // A payment attempt, stored before the provider is called; its id is the order id.
                """
                CREATE TABLE payments (
                    id uuid PRIMARY KEY,
                    reservation_id uuid NOT NULL REFERENCES reservations (id),
                    sale_id uuid NOT NULL REFERENCES sales (id),
                    status text NOT NULL CHECK (status IN
                        ('pending', 'unknown', 'declined', 'failed', 'paid', 'refunding', 'refunded')),
                    email text NOT NULL,
                    quantity integer NOT NULL,
                    amount_cents bigint NOT NULL,
                    currency text NOT NULL,
                    card_fingerprint text NOT NULL,
                    address_key text NOT NULL,
                    charge_id text,
                    idempotency_scope text NOT NULL,
                    idempotency_key text NOT NULL,
                    request_fingerprint text NOT NULL,
                    response_status integer,
                    response_body bytea,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX payments_idempotency ON payments (idempotency_scope, idempotency_key)",
                "CREATE UNIQUE INDEX payments_one_paid ON payments (reservation_id) WHERE status = 'paid'",
                "CREATE INDEX payments_reservation ON payments (reservation_id)",
                "CREATE INDEX payments_card ON payments (sale_id, card_fingerprint)",
                "CREATE INDEX payments_address ON payments (sale_id, address_key)",
                "CREATE INDEX payments_unresolved ON payments (updated_at) WHERE status IN ('pending', 'unknown')",
                """
                CREATE TABLE outbox (
                    id uuid PRIMARY KEY,
                    kind text NOT NULL CHECK (kind IN ('email', 'refund')),
                    payment_id uuid NOT NULL REFERENCES payments (id),
                    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL,
                    last_error text,
                    created_at timestamptz NOT NULL,
                    delivered_at timestamptz
                )
                """,
                "CREATE UNIQUE INDEX outbox_once ON outbox (payment_id, kind)",
                "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending'",
            ]
        ),
        (
            3, "access lists",
            [
                """
                CREATE TABLE access_rules (
                    list text NOT NULL CHECK (list IN ('block', 'allow')),
                    cidr text NOT NULL,
                    reason text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz,
                    PRIMARY KEY (list, cidr)
                )
                """,
                "CREATE TABLE access_list_version (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
                "INSERT INTO access_list_version (id, version) VALUES (1, 0)",
            ]
        ),
        (
            4, "payment flags",
            [
                // The reseller checks' reasons; a constant default adds the column without
                // rewriting the table.
                "ALTER TABLE payments ADD COLUMN flags text[] NOT NULL DEFAULT '{}'",
                // The operator's flagged orders, per sale, newest first, without reading the
                // sale's other payments; only flagged rows pay for it.
                "CREATE INDEX payments_flagged ON payments (sale_id, created_at) WHERE cardinality(flags) > 0",
            ]
        ),
        (
            5, "audit",
            [
                // The operator's actions, append-only. The identity orders entries and pages
                // through them; every node draws from the one sequence.
                """
                CREATE TABLE audit_entries (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    created_at timestamptz NOT NULL,
                    action text NOT NULL,
                    subject text NOT NULL,
                    sale_id uuid,
                    actor text NOT NULL,
                    before_view jsonb,
                    after_view jsonb
                )
                """,
                "CREATE INDEX audit_entries_created ON audit_entries (created_at)",
                "CREATE INDEX audit_entries_sale ON audit_entries (sale_id, id) WHERE sale_id IS NOT NULL",
            ]
        ),
        (
            6, "cluster",
            [
                // The nodes' heartbeats and their lines (ClusterStore). UNLOGGED: rewritten
                // twice a second and worth nothing after a crash (every node writes its rows
                // again within half a second), so they skip the WAL and its fsyncs.
                """
                CREATE UNLOGGED TABLE cluster_nodes (
                    node_id uuid PRIMARY KEY,
                    started_at timestamptz NOT NULL,
                    heartbeat_at timestamptz NOT NULL,
                    left_at timestamptz
                )
                """,
                """
                CREATE UNLOGGED TABLE admission_lines (
                    sale_id uuid NOT NULL,
                    node_id uuid NOT NULL,
                    threshold timestamptz,
                    joined bigint NOT NULL,
                    admitted bigint NOT NULL,
                    waiting bigint NOT NULL,
                    achieved double precision NOT NULL,
                    updated_at timestamptz NOT NULL,
                    PRIMARY KEY (sale_id, node_id)
                )
                """,
            ]
        ),
        (
            7, "payments_by_customer",
            [
                // The per-customer limit's two probes (card, shipping address) on indexes
                // that lead with the customer's key (`flashsale_begin_payment`, migration 9).
                // Both used to lead with sale_id, and while a sale is young its id is in no
                // statistics, so the planner rates any index on sale_id at one row and took
                // the address index for the card probe: it read every payment of the sale
                // on each payment (5,400 buffers a probe at 5,000 payments, issue 15).
                "DROP INDEX payments_card",
                "DROP INDEX payments_address",
                "CREATE INDEX payments_card ON payments (card_fingerprint)",
                "CREATE INDEX payments_address ON payments (address_key)",
                // The sale's payments by status (the stats' counts, the orders list), which
                // the two dropped indexes served by their sale_id prefix.
                "CREATE INDEX payments_sale ON payments (sale_id, status)",
            ]
        ),
        (
            8, "inventory_taken",
            [
                // The sale's row keeps what the engine decides on (available) and what it has
                // handed out (taken = reserved + sold); a settlement no longer writes it. Every
                // settlement, batch and cancellation wrote this one row, and each waited for
                // the one before to flush its commit: the settlement's statement spent 12 ms
                // of its 13 ms there at 100,000 shoppers (issue 15). Sold is now the sum of
                // the sale's paid reservations, read with the row, and reserved the rest.
                "ALTER TABLE inventory ADD COLUMN taken integer",
                "UPDATE inventory SET taken = reserved + sold",
                "ALTER TABLE inventory ALTER COLUMN taken SET NOT NULL",
                // Dropping the columns drops the old CHECK with them. Invariant 1 now reads
                // available + taken = quantity, and taken = held + paid reservations.
                "ALTER TABLE inventory DROP COLUMN reserved, DROP COLUMN sold",
                "ALTER TABLE inventory ADD CHECK (available >= 0 AND taken >= 0 AND available + taken = quantity)",
                "CREATE INDEX reservations_paid ON reservations (sale_id) INCLUDE (quantity) WHERE status = 'paid'",
            ]
        ),
        (
            9, "begin_payment_function",
            [
                // A payment's begin as one statement (`PostgresStore.beginPayment`): it takes
                // the attempt's advisory locks (its reservation, card and shipping address, in
                // key order), then reads the facts and stores the attempt under the guard of
                // `PaymentPlanner.refusal`, and its locks end with the statement. A VOLATILE
                // function's queries each take a fresh snapshot (PostgreSQL manual, "Function
                // Volatility Categories"), so the read sees every attempt committed while the
                // locks were awaited. One statement is one lease of the pool, released on the
                // connection's event loop when the answer arrives: the explicit transaction
                // held its connection through two wake-ups of the task (issue 15).
                PostgresSchema.beginPaymentFunction
            ]
        ),
        (
            10, "reserve_batch_function",
            [
                // A batch of reservations as one statement (`PostgresStore.commitReservations`):
                // planned on the facts a drop's batch nearly always has (none), checked under
                // the sale's lock, written in the same statement; only a batch whose facts are
                // not empty is planned again on facts read in a transaction. A batch took a
                // transaction of two groups, and the engine's commits averaged 26 ms at
                // 100,000 shoppers for 0.1 ms of WAL flush: each round trip waits for the
                // connection's event loop and this task on saturated cores (issue 15). The
                // transaction's write is this function too, with the check off.
                PostgresSchema.reserveBatchFunction
            ]
        ),
    ]

    /// Applies the migrations not yet applied, up to and including version `last` (all of
    /// them by default; tests stop early to build an older release's database).
    static func migrate(client: PostgresClient, logger: Logger, through last: Int = .max) async throws {
        try await client.withConnection { conn in
            try await conn.query("SELECT pg_advisory_lock(4242001)", logger: logger).drain()
            do {
                try await conn.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger
                ).drain()
                var applied = Set<Int>()
                for try await (version) in try await conn.query("SELECT version FROM schema_migrations", logger: logger)
                    .decode(Int.self)
                {
                    applied.insert(version)
                }
                for migration in migrations where !applied.contains(migration.version) && migration.version <= last {
                    try await conn.withTransaction(logger: logger) { tx in
                        for statement in migration.sql {
                            try await tx.query(PostgresQuery(unsafeSQL: statement), logger: logger).drain()
                        }
                        try await tx.query(
                            "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                            logger: logger
                        ).drain()
                    }
                    logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                }
            } catch {
                try? await conn.query("SELECT pg_advisory_unlock(4242001)", logger: logger).drain()
                throw error
            }
            try await conn.query("SELECT pg_advisory_unlock(4242001)", logger: logger).drain()
        }
    }
}
