-- The transactional outbox: events are inserted in the same transaction as
-- the state change they describe; the relay publishes them to JetStream
-- (Nats-Msg-Id = id) and marks them sent.
CREATE TABLE outbox_events (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    sent_at     TIMESTAMP,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
--bun:split
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE sent_at IS NULL;
