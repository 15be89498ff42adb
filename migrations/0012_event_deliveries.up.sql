-- The delivery journal of event consumers (core/delivery): one row per
-- (consumer, event) telling whether the consumer took the event, after how
-- many attempts, and the last error. A consumer that gave up leaves a dead
-- letter (status DEAD) that staff see and replay; its event is kept sealed
-- with the instance's secret key (envelope encryption, core/secret) because
-- events carry buyers' addresses and account links. Delivered rows drop
-- their event and are deleted after a week by the delivery.cleanup worker.
CREATE TABLE event_deliveries (
    consumer         TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    subject          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    sealed_event     TEXT NOT NULL DEFAULT '', -- base64 of the sealed event; '' once delivered
    occurred_at      TIMESTAMP NOT NULL,
    first_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at  TIMESTAMP NOT NULL,
    replayed_by      TEXT NOT NULL DEFAULT '',
    replayed_at      TIMESTAMP,
    PRIMARY KEY (consumer, event_id)
);
--bun:split
-- Staff read the journal newest first, usually the dead letters; the
-- cleanup deletes old delivered rows.
CREATE INDEX event_deliveries_status_last ON event_deliveries (status, last_attempt_at DESC, consumer, event_id);
--bun:split
CREATE INDEX event_deliveries_last ON event_deliveries (last_attempt_at DESC, consumer, event_id);
