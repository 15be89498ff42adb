-- Payments (core/payment; ADR 0009): attempts at a gateway, the gateway
-- events applied to them, refunds, the ledger of money moves and a
-- balance row per order kept in step with the ledger. Money is BIGINT in
-- minor units of the row's currency.
--
-- A payment attempt: one try to pay an order through one gateway. state
-- is PENDING (created, buyer action awaited), AUTHORIZED, CAPTURED,
-- FAILED, CANCELLED (closed unpaid or voided) or UNKNOWN (the request may
-- have reached the gateway; reconciled with GetPayment). The action is
-- what the buyer does next. next_check_at is when the reconciler asks the
-- gateway again (NULL once the state is final); claimed_by/claimed_until
-- are the reconciler's claim (core/worker.Claimer). refund_reserved holds
-- refunds asked of the gateway and not settled yet.
CREATE TABLE payment_attempts (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL REFERENCES orders (id),
    gateway_id        TEXT NOT NULL,
    amount            BIGINT NOT NULL CHECK (amount > 0),
    currency          TEXT NOT NULL,
    capture_method    TEXT NOT NULL,
    state             TEXT NOT NULL,
    gateway_ref       TEXT NOT NULL DEFAULT '',
    action_type       TEXT NOT NULL DEFAULT '',
    action_url        TEXT NOT NULL DEFAULT '',
    action_qr_code    TEXT NOT NULL DEFAULT '',
    action_secret     TEXT NOT NULL DEFAULT '',
    action_text       TEXT NOT NULL DEFAULT '',
    action_expires_at TIMESTAMP,
    decline_code      TEXT NOT NULL DEFAULT '',
    buyer_message     TEXT NOT NULL DEFAULT '',
    merchant_message  TEXT NOT NULL DEFAULT '',
    authorized_amount BIGINT NOT NULL DEFAULT 0,
    captured_amount   BIGINT NOT NULL DEFAULT 0,
    refunded_amount   BIGINT NOT NULL DEFAULT 0,
    refund_reserved   BIGINT NOT NULL DEFAULT 0,
    return_url        TEXT NOT NULL DEFAULT '',
    next_check_at     TIMESTAMP,
    check_count       BIGINT NOT NULL DEFAULT 0,
    claimed_by        TEXT,
    claimed_until     TIMESTAMP,
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    CHECK (refunded_amount + refund_reserved <= captured_amount)
);
--bun:split
CREATE INDEX payment_attempts_order ON payment_attempts (order_id, id);
--bun:split
CREATE INDEX payment_attempts_due ON payment_attempts (next_check_at, id) WHERE next_check_at IS NOT NULL;
--bun:split
CREATE INDEX payment_attempts_gateway_ref ON payment_attempts (gateway_id, gateway_ref);
--bun:split
-- The moves of attempts (machine payment.attempt), written by
-- core/transition.
CREATE TABLE payment_attempt_timeline (
    id          TEXT PRIMARY KEY,
    attempt_id  TEXT NOT NULL REFERENCES payment_attempts (id),
    machine     TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor       TEXT,
    reason      TEXT,
    event_id    TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX payment_attempt_timeline_attempt ON payment_attempt_timeline (attempt_id, id);
--bun:split
-- A refund of (part of) a captured attempt: amount in total, of which
-- shipping_amount for shipping, lines as JSON ([{"lineId","quantity",
-- "amount"}]). state PENDING (reserved, asked of the gateway), SUCCEEDED,
-- FAILED or UNKNOWN (reconciled with GetRefund).
CREATE TABLE payment_refunds (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    attempt_id         TEXT NOT NULL REFERENCES payment_attempts (id),
    gateway_id         TEXT NOT NULL,
    amount             BIGINT NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    shipping_amount    BIGINT NOT NULL DEFAULT 0,
    lines              TEXT NOT NULL DEFAULT '[]',
    state              TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    staff_id           TEXT NOT NULL DEFAULT '',
    gateway_refund_ref TEXT NOT NULL DEFAULT '',
    failure_code       TEXT NOT NULL DEFAULT '',
    merchant_message   TEXT NOT NULL DEFAULT '',
    instructions       TEXT NOT NULL DEFAULT '',
    next_check_at      TIMESTAMP,
    check_count        BIGINT NOT NULL DEFAULT 0,
    claimed_by         TEXT,
    claimed_until      TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX payment_refunds_order ON payment_refunds (order_id, id);
--bun:split
CREATE INDEX payment_refunds_due ON payment_refunds (next_check_at, id) WHERE next_check_at IS NOT NULL;
--bun:split
-- The moves of refunds (machine payment.refund), written by
-- core/transition.
CREATE TABLE payment_refund_timeline (
    id          TEXT PRIMARY KEY,
    refund_id   TEXT NOT NULL REFERENCES payment_refunds (id),
    machine     TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor       TEXT,
    reason      TEXT,
    event_id    TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
--bun:split
-- A fact learnt from a gateway: a verified notification, an answer to an
-- active query (reconciliation, the deadline's cancel) or a staff
-- confirmation of an offline payment. The unique (gateway_id,
-- gateway_event_id) makes each fact apply once: it is inserted in the same
-- transaction as the change it causes. outcome is APPLIED, IGNORED
-- (nothing left to change) or FLAGGED (not applied, or applied and needing
-- staff: flag_reason AMOUNT_MISMATCH, CURRENCY_MISMATCH, UNKNOWN_ATTEMPT,
-- CANCELLED_ORDER, UNDERPAID, OVERPAID).
CREATE TABLE payment_gateway_events (
    id               TEXT PRIMARY KEY,
    gateway_id       TEXT NOT NULL,
    gateway_event_id TEXT NOT NULL,
    type             TEXT NOT NULL,
    source           TEXT NOT NULL,
    order_id         TEXT,
    attempt_id       TEXT,
    refund_id        TEXT,
    amount           BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    flag_reason      TEXT NOT NULL DEFAULT '',
    detail           TEXT NOT NULL DEFAULT '',
    occurred_at      TIMESTAMP,
    received_at      TIMESTAMP NOT NULL,
    UNIQUE (gateway_id, gateway_event_id)
);
--bun:split
CREATE INDEX payment_gateway_events_order ON payment_gateway_events (order_id, id);
--bun:split
-- The ledger: one row per money move (AUTHORIZATION, CAPTURE, REFUND,
-- VOID), never updated. An order's paid and refunded amounts derive from
-- it.
CREATE TABLE payment_ledger (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    attempt_id  TEXT NOT NULL REFERENCES payment_attempts (id),
    refund_id   TEXT,
    kind        TEXT NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    currency    TEXT NOT NULL,
    gateway_id  TEXT NOT NULL,
    gateway_ref TEXT NOT NULL DEFAULT '',
    event_id    TEXT,
    created_at  TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX payment_ledger_order ON payment_ledger (order_id, id);
--bun:split
-- The ledger's sums per order, written in the same transaction as its
-- rows (the invariant checker compares them), plus the refunds reserved
-- and not settled: a refund is refused unless captured - refunded -
-- refund_reserved covers it, in one conditional UPDATE.
CREATE TABLE payment_balances (
    order_id        TEXT PRIMARY KEY REFERENCES orders (id),
    currency        TEXT NOT NULL,
    authorized      BIGINT NOT NULL DEFAULT 0,
    captured        BIGINT NOT NULL DEFAULT 0,
    refunded        BIGINT NOT NULL DEFAULT 0,
    voided          BIGINT NOT NULL DEFAULT 0,
    refund_reserved BIGINT NOT NULL DEFAULT 0,
    updated_at      TIMESTAMP NOT NULL,
    CHECK (refunded + refund_reserved <= captured)
);
--bun:split
-- What the shop does with money that arrives for a cancelled order:
-- refund it at once (TRUE) or flag it for staff (FALSE, the default); and
-- the order in which buyers see the payment gateways (plugin ids separated
-- by commas; gateways not listed follow by id).
ALTER TABLE shop_settings ADD COLUMN refund_cancelled_order_payments BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
ALTER TABLE shop_settings ADD COLUMN payment_method_order TEXT NOT NULL DEFAULT '';
