ALTER TABLE payment_refunds DROP COLUMN shipping_tax_amount;
