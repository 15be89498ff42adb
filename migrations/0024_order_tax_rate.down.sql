ALTER TABLE orders DROP COLUMN tax_basis_points;
--bun:split
ALTER TABLE orders DROP COLUMN tax_name;
