package order

import (
	"context"
	"time"

	"github.com/kassahq/kassa/core/transition"
)

// The machines are unexported: their moves are reached through the
// service's operations. The transition table tests apply every pair of
// states directly, including moves no operation makes yet.

// ApplyStatus applies mv with the staff's status machine.
func ApplyStatus(ctx context.Context, s *Service, mv transition.Move[Status]) error {
	_, err := s.statuses.Apply(ctx, mv)
	return err
}

// ApplyBuyerStatus applies mv with the buyer's status machine.
func ApplyBuyerStatus(ctx context.Context, s *Service, mv transition.Move[Status]) error {
	_, err := s.buyerStatuses.Apply(ctx, mv)
	return err
}

// ApplyFulfillment applies mv with the fulfillment machine.
func ApplyFulfillment(ctx context.Context, s *Service, mv transition.Move[FulfillmentStatus]) error {
	_, err := s.fulfillments.Apply(ctx, mv)
	return err
}

// SetCountBudget shortens Count's budget, to see a count given up.
func SetCountBudget(s *Service, d time.Duration) { s.countBudget = d }
