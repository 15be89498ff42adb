package order

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// lineCounts is how many lines and units an order has.
type lineCounts struct {
	Lines int64
	Units int64
}

// LineCounts returns, for each order among ids that has lines, how many
// lines and units it has: one aggregate over the (order_id, position)
// index for a whole batch of an export.
func (s *orderStore) LineCounts(ctx context.Context, ids []string) (map[string]lineCounts, error) {
	out := make(map[string]lineCounts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		OrderID string `bun:"order_id"`
		Lines   int64  `bun:"lines"`
		Units   int64  `bun:"units"`
	}
	err := s.db.Conn(ctx).NewSelect().Table("order_lines").
		ColumnExpr("order_id, COUNT(*) AS lines, SUM(quantity) AS units").
		Where("order_id IN (?)", bun.In(ids)).GroupExpr("order_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("count order lines: %w", err)
	}
	for _, r := range rows {
		out[r.OrderID] = lineCounts{Lines: r.Lines, Units: r.Units}
	}
	return out, nil
}

// TrackingNumbers returns, for each order among ids, the tracking numbers
// of its shipments that have one, oldest shipment first.
func (s *orderStore) TrackingNumbers(ctx context.Context, ids []string) (map[string][]string, error) {
	out := make(map[string][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		OrderID        string `bun:"order_id"`
		TrackingNumber string `bun:"tracking_number"`
	}
	err := s.db.Conn(ctx).NewSelect().Table("order_shipments").Column("order_id", "tracking_number").
		Where("order_id IN (?) AND tracking_number <> ''", bun.In(ids)).OrderExpr("order_id, id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read tracking numbers: %w", err)
	}
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], r.TrackingNumber)
	}
	return out, nil
}
