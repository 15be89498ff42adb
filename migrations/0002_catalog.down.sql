DROP TABLE collection_products;
--bun:split
DROP TABLE collections;
--bun:split
DROP TABLE inventory_adjustments;
--bun:split
DROP TABLE inventory_levels;
--bun:split
DROP TABLE variant_prices;
--bun:split
DROP TABLE product_variants;
--bun:split
DROP TABLE products;
