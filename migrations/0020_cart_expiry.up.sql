-- Carts expire (core/cart expiry.go; docs/api.md, Cart lifetime).
--
-- touched_at is when the cart was last changed, to the hour: a change
-- moves it only when it is more than an hour old, so that most changes
-- leave the indexes below alone (on PostgreSQL they stay HOT updates).
-- An open cart not changed for its lifetime (a guest's, a signed-in
-- buyer's: settings of the instance) is refused as if it did not exist,
-- and the cart.purge worker deletes it with its lines (ON DELETE
-- CASCADE). A completed cart, or one merged into another, is touched
-- when it retires and kept while checkout's idempotency keys are (24 h).
-- Existing carts count as changed when they were last updated.
--
-- The default is never used: every insert writes touched_at. A row
-- written without it would count as expired long ago, and be purged.
ALTER TABLE carts ADD COLUMN touched_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
--bun:split
UPDATE carts SET touched_at = updated_at;
--bun:split
-- One index per kind of cart, each the purge's condition for that kind,
-- so that the purge reads only expired carts, oldest first, however many
-- live ones there are. Every cart is in exactly one of them: an open
-- cart has a token (a guest's) or a buyer (a buyer's), never both. Each
-- condition names both columns so that no statement looking a cart up
-- (by token, by buyer, to adopt a guest cart) implies it: a plan made
-- before the table has statistics would otherwise walk one of these
-- indexes instead of the key.
CREATE INDEX carts_guest_touched ON carts (touched_at)
    WHERE token_hash IS NOT NULL AND customer_id IS NULL AND completed_at IS NULL AND merged_into IS NULL;
--bun:split
CREATE INDEX carts_buyer_touched ON carts (touched_at)
    WHERE token_hash IS NULL AND customer_id IS NOT NULL AND completed_at IS NULL AND merged_into IS NULL;
--bun:split
CREATE INDEX carts_retired_touched ON carts (touched_at)
    WHERE completed_at IS NOT NULL OR merged_into IS NOT NULL;
