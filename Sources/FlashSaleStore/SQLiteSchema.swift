import GRDB

/// Versioned SQLite migrations. Append new ones; never edit an applied one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sales-reservations-idempotency") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sales (
                        id TEXT PRIMARY KEY,
                        sku TEXT NOT NULL,
                        name TEXT NOT NULL,
                        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
                        currency TEXT NOT NULL,
                        quantity INTEGER NOT NULL CHECK (quantity >= 1),
                        starts_at INTEGER NOT NULL,
                        ends_at INTEGER NOT NULL,
                        per_customer_limit INTEGER NOT NULL CHECK (per_customer_limit >= 1),
                        reservation_ttl_seconds INTEGER NOT NULL CHECK (reservation_ttl_seconds >= 1),
                        admission_rate_per_second INTEGER NOT NULL CHECK (admission_rate_per_second >= 1),
                        paused INTEGER NOT NULL DEFAULT 0,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        CHECK (ends_at > starts_at)
                    );
                    CREATE INDEX sales_sku_window ON sales (sku, starts_at);

                    -- The hot row of a sale, kept narrow. The CHECK is invariant 1.
                    CREATE TABLE inventory (
                        sale_id TEXT PRIMARY KEY REFERENCES sales (id),
                        quantity INTEGER NOT NULL,
                        available INTEGER NOT NULL,
                        reserved INTEGER NOT NULL,
                        sold INTEGER NOT NULL,
                        CHECK (available >= 0 AND reserved >= 0 AND sold >= 0
                               AND available + reserved + sold = quantity)
                    );

                    CREATE TABLE reservations (
                        id TEXT PRIMARY KEY,
                        sale_id TEXT NOT NULL REFERENCES sales (id),
                        pass_id TEXT NOT NULL,
                        email TEXT NOT NULL,
                        customer_key TEXT NOT NULL,
                        quantity INTEGER NOT NULL CHECK (quantity >= 1),
                        amount_cents INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('held', 'paid', 'cancelled', 'expired')),
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        closed_at INTEGER
                    );
                    CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE status = 'held';
                    CREATE INDEX reservations_customer ON reservations (sale_id, customer_key);
                    CREATE UNIQUE INDEX reservations_live_pass ON reservations (sale_id, pass_id) WHERE status = 'held';

                    CREATE TABLE idempotency_keys (
                        scope TEXT NOT NULL,
                        key TEXT NOT NULL,
                        fingerprint TEXT NOT NULL,
                        status_code INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (scope, key)
                    );
                    CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
                    """)
        }
        migrator.registerMigration("v2-payments-outbox") { db in
            try db.execute(
                sql: """
                    -- A payment attempt, stored before the provider is called; its id is the order id.
                    CREATE TABLE payments (
                        id TEXT PRIMARY KEY,
                        reservation_id TEXT NOT NULL REFERENCES reservations (id),
                        sale_id TEXT NOT NULL REFERENCES sales (id),
                        status TEXT NOT NULL CHECK (status IN
                            ('pending', 'unknown', 'declined', 'failed', 'paid', 'refunding', 'refunded')),
                        email TEXT NOT NULL,
                        quantity INTEGER NOT NULL,
                        amount_cents INTEGER NOT NULL,
                        currency TEXT NOT NULL,
                        card_fingerprint TEXT NOT NULL,
                        address_key TEXT NOT NULL,
                        charge_id TEXT,
                        idempotency_scope TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        request_fingerprint TEXT NOT NULL,
                        response_status INTEGER,
                        response_body BLOB,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX payments_idempotency ON payments (idempotency_scope, idempotency_key);
                    CREATE UNIQUE INDEX payments_one_paid ON payments (reservation_id) WHERE status = 'paid';
                    CREATE INDEX payments_reservation ON payments (reservation_id);
                    CREATE INDEX payments_card ON payments (sale_id, card_fingerprint);
                    CREATE INDEX payments_address ON payments (sale_id, address_key);
                    CREATE INDEX payments_unresolved ON payments (updated_at) WHERE status IN ('pending', 'unknown');

                    CREATE TABLE outbox (
                        id TEXT PRIMARY KEY,
                        kind TEXT NOT NULL CHECK (kind IN ('email', 'refund')),
                        payment_id TEXT NOT NULL REFERENCES payments (id),
                        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        last_error TEXT,
                        created_at INTEGER NOT NULL,
                        delivered_at INTEGER
                    );
                    CREATE UNIQUE INDEX outbox_once ON outbox (payment_id, kind);
                    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
                    """)
        }
        migrator.registerMigration("v3-access-lists") { db in
            try db.execute(
                sql: """
                    -- The operator's block and allow lists; cidr in canonical form (CIDR.description).
                    CREATE TABLE access_rules (
                        list TEXT NOT NULL CHECK (list IN ('block', 'allow')),
                        cidr TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER,
                        PRIMARY KEY (list, cidr)
                    );
                    -- Moves on every change, so that nodes re-read the lists only when they changed.
                    CREATE TABLE access_list_version (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        version INTEGER NOT NULL
                    );
                    INSERT INTO access_list_version (id, version) VALUES (1, 0);
                    """)
        }
        migrator.registerMigration("v4-payment-flags") { db in
            try db.execute(
                sql: """
                    -- The reseller checks' reasons, a JSON array of codes ('[]': none).
                    ALTER TABLE payments ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
                    -- The operator's flagged orders, per sale, newest first, without reading the
                    -- sale's other payments; only flagged rows pay for it.
                    CREATE INDEX payments_flagged ON payments (sale_id, created_at) WHERE flags <> '[]';
                    """)
        }
        migrator.registerMigration("v5-audit") { db in
            try db.execute(
                sql: """
                    -- The operator's actions, append-only. AUTOINCREMENT: an id is never reused,
                    -- so it orders entries and pages through them.
                    CREATE TABLE audit_entries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        created_at INTEGER NOT NULL,
                        action TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        sale_id TEXT,
                        actor TEXT NOT NULL,
                        before_view TEXT,
                        after_view TEXT
                    );
                    CREATE INDEX audit_entries_created ON audit_entries (created_at);
                    CREATE INDEX audit_entries_sale ON audit_entries (sale_id, id) WHERE sale_id IS NOT NULL;
                    """)
        }
        return migrator
    }
}
