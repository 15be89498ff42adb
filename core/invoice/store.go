package invoice

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// invoiceStore is the persistence of invoicing: the only place with SQL.
// Every method runs on the transaction carried by ctx, if any.
type invoiceStore struct {
	db *store.DB
}

// InsertInvoice stores d unless the rule already issued a document with
// its idempotency key, and reports whether it did.
func (s *invoiceStore) InsertInvoice(ctx context.Context, d *Invoice) (bool, error) {
	res, err := s.db.Conn(ctx).NewInsert().Model(d).On("CONFLICT (rule_id, idempotency_key) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InvoiceByKey returns the document the rule issued with key, without
// its content; errs.ErrNotFound when there is none.
func (s *invoiceStore) InvoiceByKey(ctx context.Context, ruleID, key string) (*Invoice, error) {
	d := new(Invoice)
	err := s.db.Conn(ctx).NewSelect().Model(d).ExcludeColumn("content").
		Where("rule_id = ?", ruleID).Where("idempotency_key = ?", key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return d, err
}

// InvoicesOfOrders returns the documents of the orders, without their
// content, by order and then in the order they were issued.
func (s *invoiceStore) InvoicesOfOrders(ctx context.Context, orderIDs []string) ([]*Invoice, error) {
	var out []*Invoice
	if len(orderIDs) == 0 {
		return out, nil
	}
	err := s.db.Conn(ctx).NewSelect().Model(&out).ExcludeColumn("content").
		Where("order_id IN (?)", bun.In(orderIDs)).OrderExpr("order_id, issued_at, id").Scan(ctx)
	return out, err
}

// Invoice returns one document with its content; errs.ErrNotFound when
// there is none.
func (s *invoiceStore) Invoice(ctx context.Context, id string) (*Invoice, error) {
	d := new(Invoice)
	err := s.db.Conn(ctx).NewSelect().Model(d).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return d, err
}

// SequenceValue returns the value a sequence handed out for key, if any.
func (s *invoiceStore) SequenceValue(ctx context.Context, storeID, ruleID, name, key string) (int64, bool, error) {
	var v []int64
	err := s.db.Conn(ctx).NewRaw(`SELECT value FROM invoice_sequence_values
		WHERE store = ? AND rule_id = ? AND name = ? AND idempotency_key = ?`, storeID, ruleID, name, key).Scan(ctx, &v)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && len(v) == 0) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return v[0], true, nil
}

// IncrementSequence moves a sequence on by one, creating it at 1, and
// returns its new last value. On PostgreSQL the row stays locked until
// the transaction ends, so callers of one sequence take turns; SQLite has
// one writer at a time anyway.
func (s *invoiceStore) IncrementSequence(ctx context.Context, storeID, ruleID, name string) (int64, error) {
	var v int64
	err := s.db.Conn(ctx).NewRaw(`INSERT INTO invoice_sequences (store, rule_id, name, last_value) VALUES (?, ?, ?, 1)
		ON CONFLICT (store, rule_id, name) DO UPDATE SET last_value = invoice_sequences.last_value + 1
		RETURNING last_value`, storeID, ruleID, name).Scan(ctx, &v)
	return v, err
}

// InsertSequenceValue records the value handed out for key, unless a
// value was recorded for key meanwhile; it reports whether it recorded.
func (s *invoiceStore) InsertSequenceValue(ctx context.Context, storeID, ruleID, name, key string, value int64, at time.Time) (bool, error) {
	res, err := s.db.Conn(ctx).NewRaw(`INSERT INTO invoice_sequence_values (store, rule_id, name, idempotency_key, value, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (store, rule_id, name, idempotency_key) DO NOTHING`,
		storeID, ruleID, name, key, value, at).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
