ALTER TABLE shop_settings DROP COLUMN storefront_origins;
--bun:split
ALTER TABLE shop_settings DROP COLUMN payment_capture_mode;
