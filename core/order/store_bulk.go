package order

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// OrdersByIDs returns the orders among ids that exist, by id.
func (s *orderStore) OrdersByIDs(ctx context.Context, ids []string) (map[string]*Order, error) {
	out := make(map[string]*Order, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var os []*Order
	if err := s.db.Conn(ctx).NewSelect().Model(&os).Where("o.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	for _, o := range os {
		out[o.ID] = o
	}
	return out, nil
}
