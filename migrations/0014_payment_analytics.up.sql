-- Payment analytics and reconciliation (core/payment analytics.go,
-- reconciliation.go).
--
-- The attempts of a range, read by the analytics' queries without
-- touching the table: the creation time first (the range), then every
-- column they group, count and sum, and the id that finds the attempt's
-- moves.
CREATE INDEX payment_attempts_analytics ON payment_attempts
    (created_at, gateway_id, currency, state, action_type, captured_amount, authorized_amount, id);
--bun:split
-- The attempts changed since the day summaries were last checked.
CREATE INDEX payment_attempts_updated ON payment_attempts (updated_at);
--bun:split
-- When an attempt was paid: its first move to AUTHORIZED or CAPTURED.
CREATE INDEX payment_attempt_timeline_paid ON payment_attempt_timeline (attempt_id, to_state, created_at);
--bun:split
-- A gateway's captures and refunds of a day, for its reconciliation report.
CREATE INDEX payment_ledger_gateway_created ON payment_ledger (gateway_id, created_at);
--bun:split
-- Day summaries of the attempts, a cache the analytics fill and check
-- themselves: one row per UTC day that has ended, its cells one per line,
-- for the day (cells) and per hour (hours): gateway, method, currency,
-- attempts, succeeded, failed, open, money captured, and the milliseconds
-- each succeeded attempt took to be paid (sorted, as comma-separated
-- differences). A year is answered from 365 rows, a month by the hour
-- from 31, medians exact (core/payment analytics_store.go). A change to an attempt after the
-- watermark (its updated_at) removes its day, which is summarized again
-- when asked for.
CREATE TABLE payment_analytics_days (
    day   TIMESTAMP PRIMARY KEY,
    cells TEXT NOT NULL,
    hours TEXT NOT NULL
);
--bun:split
-- The watermark: every change to an attempt before valid_as_of is in the
-- summaries. One row, id 1.
CREATE TABLE payment_analytics_watermark (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    valid_as_of TIMESTAMP NOT NULL
);
