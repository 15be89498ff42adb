-- Two shop settings of payments (core/shop; docs/api.md, Payments).
--
-- payment_capture_mode: whether buyers' payments are captured at once
-- (AUTOMATIC, the default) or held for staff to capture (MANUAL); buyers
-- no longer choose it. storefront_origins: the origins of the shop's
-- storefronts besides its public URL (https://shop.example.com,
-- separated by commas), which a payment's return URL may be on.
ALTER TABLE shop_settings ADD COLUMN payment_capture_mode TEXT NOT NULL DEFAULT 'AUTOMATIC';
--bun:split
ALTER TABLE shop_settings ADD COLUMN storefront_origins TEXT NOT NULL DEFAULT '';
