DROP INDEX tax_rates_place;
--bun:split
DROP TABLE tax_rates;
--bun:split
DROP INDEX shipping_methods_zone;
--bun:split
DROP TABLE shipping_methods;
--bun:split
DROP TABLE shipping_zones;
--bun:split
DROP TABLE shop_settings;
