-- One payment start at a time per order (core/payment create.go).
--
-- The attempt an order's payment was last started with, and until when
-- that start keeps other starts of the order away while its gateway has
-- not answered. paymentCreate takes the row with one conditional upsert
-- before it calls the gateway: it inserts it, or takes it over when the
-- attempt it names got its gateway's first answer (or its lease ran out:
-- a crash mid-call never blocks the order) and holds no money. The row
-- is never deleted: it is the order's lock, on SQLite and PostgreSQL
-- alike, and a finished start needs no write to release it.
CREATE TABLE payment_starts (
    order_id     TEXT PRIMARY KEY REFERENCES orders (id),
    attempt_id   TEXT NOT NULL,
    leased_until TIMESTAMP NOT NULL
);
