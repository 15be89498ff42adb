-- Invoices and credit notes (core/invoice), issued by the invoice rule
-- plugins after payment and refunds, and the gapless number sequences
-- those plugins number them from.
--
-- A document: its rule (the plugin that issued it), kind (INVOICE or
-- CREDIT_NOTE), number, the invoice a credit note corrects
-- (original_number), when it was issued, its total in minor units of its
-- currency (for a credit note the amount credited, positive), and the
-- document itself (content, usually a PDF of some tens of kilobytes) with
-- its media type and suggested file name. The content lives in the row:
-- one transaction stores the document with its event, a backup of the
-- database holds every document, and no file can go missing beside it.
-- cause_event_id and cause_subject name the event that caused it; the
-- rule's idempotency key is unique per rule, so an event delivered twice
-- issues nothing twice. This file is SQLite's (BLOB);
-- 0013_invoices.postgres.up.sql is PostgreSQL's (BYTEA).
CREATE TABLE invoice_documents (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    rule_id         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('INVOICE', 'CREDIT_NOTE')),
    number          TEXT NOT NULL,
    original_number TEXT NOT NULL DEFAULT '',
    issued_at       TIMESTAMP NOT NULL,
    currency        TEXT NOT NULL,
    total_amount    BIGINT NOT NULL,
    mime_type       TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    content         BLOB NOT NULL,
    content_size    BIGINT NOT NULL,
    content_sha256  TEXT NOT NULL,
    cause_event_id  TEXT NOT NULL,
    cause_subject   TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (rule_id, idempotency_key),
    UNIQUE (rule_id, number)
);
--bun:split
CREATE INDEX invoice_documents_order ON invoice_documents (order_id, issued_at, id);
--bun:split
-- The sequences rules number documents from (invoice.Sequence): the last
-- value handed out per store, rule and sequence name ("invoice",
-- "credit_note/2026").
CREATE TABLE invoice_sequences (
    store      TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    last_value BIGINT NOT NULL CHECK (last_value > 0),
    PRIMARY KEY (store, rule_id, name)
);
--bun:split
-- Each value handed out, with the idempotency key it was asked with: the
-- same key gets the same value again, so a retried call takes no second
-- number and leaves no gap.
CREATE TABLE invoice_sequence_values (
    store           TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    value           BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (store, rule_id, name, idempotency_key),
    UNIQUE (store, rule_id, name, value)
);
