package payment

import (
	"context"
	"fmt"
)

// Routes reads the routes of method ("" for every method), by method then
// position.
func (s *paymentStore) Routes(ctx context.Context, method string) ([]*Route, error) {
	var out []*Route
	q := s.conn(ctx).NewSelect().Model(&out).OrderExpr("method ASC, position ASC")
	if method != "" {
		q = q.Where("method = ?", method)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("payment: read routes: %w", err)
	}
	return out, nil
}

// RoutedMethods lists the methods that have routes.
func (s *paymentStore) RoutedMethods(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.conn(ctx).NewSelect().Model((*Route)(nil)).Column("method").Distinct().OrderExpr("method ASC").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("payment: read routed methods: %w", err)
	}
	return out, nil
}

// DeleteRoutes removes the routes of method.
func (s *paymentStore) DeleteRoutes(ctx context.Context, method string) error {
	if _, err := s.conn(ctx).NewDelete().Model((*Route)(nil)).Where("method = ?", method).Exec(ctx); err != nil {
		return fmt.Errorf("payment: delete routes of %s: %w", method, err)
	}
	return nil
}

// InsertRoutes writes new routes.
func (s *paymentStore) InsertRoutes(ctx context.Context, routes []*Route) error {
	if len(routes) == 0 {
		return nil
	}
	if _, err := s.conn(ctx).NewInsert().Model(&routes).Exec(ctx); err != nil {
		return fmt.Errorf("payment: insert routes: %w", err)
	}
	return nil
}

// LastOfChain follows the failover chain that starts at attempt id (the
// attempts that followed it, each naming the one before) and returns its
// last attempt: what a repeated paymentCreate answers.
func (s *paymentStore) LastOfChain(ctx context.Context, id string) (*Attempt, error) {
	a, err := s.Attempt(ctx, id)
	if err != nil {
		return nil, err
	}
	for range MaxRoutes {
		var next []*Attempt
		if err := s.conn(ctx).NewSelect().Model(&next).Where("failover_of = ?", a.ID).OrderExpr("id ASC").Limit(1).Scan(ctx); err != nil {
			return nil, fmt.Errorf("payment: follow attempt %s: %w", a.ID, err)
		}
		if len(next) == 0 {
			break
		}
		a = next[0]
	}
	return a, nil
}
