-- The stock ledger also records what orders do to stock (core/catalog
-- Reservations, ADR 0006): a reservation at checkout (reserved +q), its
-- release on cancel or deadline (reserved -q) and its commit on shipment
-- (on hand -q, reserved -q). delta stays the change of on hand; a
-- reservation moves reserved_delta only. reference names what caused the
-- row (an order, a shipment); rows made by hand have none.
ALTER TABLE inventory_adjustments ADD COLUMN reserved_delta BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE inventory_adjustments ADD COLUMN reference TEXT NOT NULL DEFAULT '';
--bun:split
-- One row per reference, variant and reason: reserving, releasing or
-- committing the same order's stock twice is refused by a unique insert in
-- the transaction that moves the stock, on both engines.
CREATE UNIQUE INDEX inventory_adjustments_reference ON inventory_adjustments (reference, variant_id, reason) WHERE reference <> '';
