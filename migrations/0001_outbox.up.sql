-- The transactional outbox: events are inserted in the same transaction as
-- the state change they describe; the relay (core/events) publishes them to
-- JetStream in id order with Nats-Msg-Id = id, and marks them sent. Sent
-- rows are pruned after a retention period.
CREATE TABLE outbox_events (
    id          TEXT PRIMARY KEY,      -- evt_ ULID: the event id and the relay order
    subject     TEXT NOT NULL,         -- kassa.<domain>.<event>
    payload     TEXT NOT NULL,         -- JSON
    headers     TEXT,                  -- JSON object of extra message headers, or NULL
    actor       TEXT,                  -- who caused the event, or NULL
    occurred_at TIMESTAMP NOT NULL,    -- when the change happened (UTC)
    created_at  TIMESTAMP NOT NULL,    -- when the row was inserted (UTC): outbox lag
    sent_at     TIMESTAMP,             -- when JetStream acknowledged it; NULL = pending
    attempts    INTEGER NOT NULL DEFAULT 0, -- failed publish attempts
    last_error  TEXT                   -- the last publish error
);
--bun:split
-- Pending rows, in relay order.
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE sent_at IS NULL;
--bun:split
-- Sent rows, for pruning.
CREATE INDEX outbox_events_sent ON outbox_events (sent_at) WHERE sent_at IS NOT NULL;
