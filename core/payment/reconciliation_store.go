package payment

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/money"
)

// ledgerMove is a capture or refund of the ledger as the reconciliation
// report compares it: the ledger row with its refund's gateway reference.
type ledgerMove struct {
	ID               string         `bun:"id"`
	Kind             LedgerKind     `bun:"kind"`
	AmountMinor      int64          `bun:"amount"`
	Currency         money.Currency `bun:"currency"`
	OrderID          string         `bun:"order_id"`
	AttemptID        string         `bun:"attempt_id"`
	RefundID         *string        `bun:"refund_id"`
	GatewayRef       string         `bun:"gateway_ref"`
	GatewayRefundRef string         `bun:"gateway_refund_ref"`
	CreatedAt        time.Time      `bun:"created_at"`
}

// LedgerMoves returns at most limit captures and refunds the gateway's
// ledger rows record in [from, to), oldest first (the index
// payment_ledger_gateway_created keeps it a range read).
func (s *paymentStore) LedgerMoves(ctx context.Context, gatewayID string, from, to time.Time, limit int) ([]*ledgerMove, error) {
	var out []*ledgerMove
	err := s.conn(ctx).NewSelect().TableExpr("payment_ledger AS l").
		ColumnExpr("l.id, l.kind, l.amount, l.currency, l.order_id, l.attempt_id, l.refund_id, l.gateway_ref, l.created_at").
		ColumnExpr("COALESCE(r.gateway_refund_ref, '') AS gateway_refund_ref").
		Join("LEFT JOIN payment_refunds AS r ON r.id = l.refund_id").
		Where("l.gateway_id = ? AND l.created_at >= ? AND l.created_at < ?", gatewayID, from, to).
		Where("l.kind IN (?)", bun.In([]LedgerKind{LedgerCapture, LedgerRefund})).
		OrderExpr("l.created_at, l.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("payment: read the ledger of %s: %w", gatewayID, err)
	}
	return out, nil
}

// AttemptsByIDs returns the gateway's attempts among ids, in no order.
func (s *paymentStore) AttemptsByIDs(ctx context.Context, gatewayID string, ids []string) ([]*Attempt, error) {
	return s.attemptsWhere(ctx, gatewayID, "id", ids)
}

// AttemptsByRefs returns the gateway's attempts whose gateway reference
// is among refs, in no order.
func (s *paymentStore) AttemptsByRefs(ctx context.Context, gatewayID string, refs []string) ([]*Attempt, error) {
	return s.attemptsWhere(ctx, gatewayID, "gateway_ref", refs)
}

func (s *paymentStore) attemptsWhere(ctx context.Context, gatewayID, column string, values []string) ([]*Attempt, error) {
	var out []*Attempt
	for len(values) > 0 {
		chunk := values[:min(len(values), MaxBatch)]
		values = values[len(chunk):]
		var part []*Attempt
		err := s.conn(ctx).NewSelect().Model(&part).
			Where("gateway_id = ?", gatewayID).Where("? IN (?)", bun.Ident(column), bun.In(chunk)).Scan(ctx)
		if err != nil {
			return nil, fmt.Errorf("payment: read attempts by %s: %w", column, err)
		}
		out = append(out, part...)
	}
	return out, nil
}

// RefundsByRefs returns the gateway's refunds whose gateway reference is
// among refs, in no order.
func (s *paymentStore) RefundsByRefs(ctx context.Context, gatewayID string, refs []string) ([]*Refund, error) {
	var out []*Refund
	for len(refs) > 0 {
		chunk := refs[:min(len(refs), MaxBatch)]
		refs = refs[len(chunk):]
		var part []*Refund
		err := s.conn(ctx).NewSelect().Model(&part).
			Where("gateway_id = ? AND gateway_refund_ref IN (?)", gatewayID, bun.In(chunk)).Scan(ctx)
		if err != nil {
			return nil, fmt.Errorf("payment: read refunds by reference: %w", err)
		}
		out = append(out, part...)
	}
	return out, nil
}
