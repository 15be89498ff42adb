package order

import (
	"context"
	"fmt"
	"time"
)

// paymentViewColumns are the order row's columns PaymentView reads: the
// statuses, the money, the deadline, the payment method and who and
// where the buyer is.
const paymentViewColumns = "o.id, o.number, o.customer_id, o.email, o.currency, o.status, o.payment_status, " +
	"o.payment_method, o.shipping_amount, o.tax_amount, o.tax_included, o.total_amount, o.payment_deadline, o.shipping_address, o.billing_address"

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

// SetPaymentMethod writes the order's payment method and updated_at,
// unless the method is already that: one conditional statement.
func (s *orderStore) SetPaymentMethod(ctx context.Context, id, method string, now time.Time) error {
	_, err := s.db.ExecStmt(ctx, "UPDATE \"orders\" SET payment_method = ?, updated_at = ? WHERE id = ? AND payment_method <> ?",
		method, now, id, method)
	if err != nil {
		return fmt.Errorf("set order payment method: %w", err)
	}
	return nil
}

// paymentViewWhere reads with a statement of fixed text, its argument
// bound: paying an order reads it in every step.
func (s *orderStore) paymentViewWhere(ctx context.Context, where string, arg any) (*Order, error) {
	o := new(Order)
	n, err := s.db.ScanStmt(ctx, o, "SELECT "+paymentViewColumns+" FROM \"orders\" AS o WHERE "+where+" LIMIT 1", arg)
	if err != nil {
		return nil, fmt.Errorf("read order for payment: %w", err)
	}
	if n == 0 {
		return nil, orderNotFound()
	}
	return o, nil
}
