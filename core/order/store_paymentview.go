package order

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/core/store"
)

// paymentViewColumns are the order row's columns PaymentView reads: the
// statuses, the money, the deadline and who and where the buyer is.
var paymentViewColumns = []string{
	"o.id", "o.number", "o.customer_id", "o.email", "o.currency", "o.status", "o.payment_status",
	"o.shipping_amount", "o.total_amount", "o.payment_deadline", "o.shipping_address", "o.billing_address",
}

// PaymentViewByID reads the columns of PaymentView of one order in one
// query, or CodeOrderNotFound.
func (s *orderStore) PaymentViewByID(ctx context.Context, id string) (*Order, error) {
	return s.paymentViewWhere(ctx, "o.id = ?", id)
}

// PaymentViewByTokenHash is PaymentViewByID for the order whose guest
// access token hashes to h.
func (s *orderStore) PaymentViewByTokenHash(ctx context.Context, h string) (*Order, error) {
	if h == "" {
		return nil, orderNotFound()
	}
	// The repeated condition lets SQLite use the partial index on the
	// token, as in OrderByTokenHash.
	return s.paymentViewWhere(ctx, "o.access_token_hash = ? AND o.access_token_hash <> ''", h)
}

func (s *orderStore) paymentViewWhere(ctx context.Context, where string, arg any) (*Order, error) {
	o := new(Order)
	err := s.db.Conn(ctx).NewSelect().Model(o).Column(paymentViewColumns...).Where(where, arg).Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return nil, orderNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("read order for payment: %w", err)
	}
	return o, nil
}
