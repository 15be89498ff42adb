package order

import (
	"context"

	"github.com/kassahq/kassa/core/authz"
)

// GetOrder returns an order without its lines, shipments, notes or
// timeline, in one query, to the callers Get answers: staff with order
// read, or the order's buyer (order read:own); to anyone else the order
// does not exist. A reader that shows only the order's own fields (its
// statuses and totals, as a buyer's status page polls them) uses it
// instead of Get, which reads four tables more.
func (s *Service) GetOrder(ctx context.Context, orderID string) (*Order, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Read); err != nil {
		return nil, err
	}
	o, err := s.store.OrderByID(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if !s.isStaff(ctx) && !ownedByCaller(ctx, o) {
		return nil, orderNotFound()
	}
	return o, nil
}

// GetOrderByAccessToken is GetOrder for the order a guest's access token
// opens, to the callers GetByAccessToken answers (order read:own); a
// wrong or empty token is not found.
func (s *Service) GetOrderByAccessToken(ctx context.Context, token string) (*Order, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Read); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, orderNotFound()
	}
	return s.store.OrderByTokenHash(ctx, hashToken(token))
}
