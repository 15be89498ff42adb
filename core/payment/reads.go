package payment

import (
	"context"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
)

// Maximums of the reads.
const (
	// MaxBatch is the most orders one batched read takes.
	MaxBatch = 500
	// MaxFlagged is the most flagged events Flagged returns.
	MaxFlagged = 200
)

func batch(ids []string) []string {
	if len(ids) > MaxBatch {
		return ids[:MaxBatch]
	}
	return ids
}

// Attempt returns one attempt, for the buyer's status page: staff with
// payment read see any; a buyer (payment read:own) theirs, a guest the
// one of the order their access token opens. Others get
// PAYMENT_NOT_FOUND.
func (s *Service) Attempt(ctx context.Context, attemptID, accessToken string) (*Attempt, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	a, err := s.store.Attempt(ctx, attemptID)
	if err != nil {
		return nil, err
	}
	if s.authz.Can(ctx, authz.Payment, authz.Read) == nil {
		return a, nil
	}
	o, err := s.ownOrder(ctx, a.OrderID, accessToken, authz.Read)
	if err != nil || o.ID != a.OrderID {
		return nil, attemptNotFound()
	}
	return a, nil
}

// AttemptsOf returns the attempts of each order, oldest first (staff,
// payment read), for lists: one query for up to MaxBatch orders.
func (s *Service) AttemptsOf(ctx context.Context, orderIDs []string) (map[string][]*Attempt, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	rows, err := s.store.AttemptsOfOrders(ctx, batch(orderIDs))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*Attempt, len(orderIDs))
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], r)
	}
	return out, nil
}

// EventsOf returns the gateway events of each order, oldest first (staff,
// payment read).
func (s *Service) EventsOf(ctx context.Context, orderIDs []string) (map[string][]*EventRecord, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	rows, err := s.store.EventsOfOrders(ctx, batch(orderIDs))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*EventRecord, len(orderIDs))
	for _, r := range rows {
		out[*r.OrderID] = append(out[*r.OrderID], r)
	}
	return out, nil
}

// Flagged returns the latest flagged gateway events, newest first, at
// most limit (MaxFlagged), for staff's attention (payment read): those
// staff have not resolved (ResolveFlag), or with resolved every one.
func (s *Service) Flagged(ctx context.Context, limit int, resolved bool) ([]*EventRecord, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxFlagged {
		limit = MaxFlagged
	}
	return s.store.FlaggedEvents(ctx, limit, resolved)
}

// LedgerOf returns the ledger rows of each order, oldest first (staff,
// payment read).
func (s *Service) LedgerOf(ctx context.Context, orderIDs []string) (map[string][]*LedgerEntry, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	rows, err := s.store.LedgerOfOrders(ctx, batch(orderIDs))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*LedgerEntry, len(orderIDs))
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], r)
	}
	return out, nil
}

// RefundsOf returns the refunds of each order, oldest first (staff,
// refund read).
func (s *Service) RefundsOf(ctx context.Context, orderIDs []string) (map[string][]*Refund, error) {
	if err := s.authz.Can(ctx, authz.Refund, authz.Read); err != nil {
		return nil, err
	}
	rows, err := s.store.RefundsOfOrders(ctx, batch(orderIDs))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*Refund, len(orderIDs))
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], r)
	}
	return out, nil
}

// Amounts are an order's money as the ledger says.
type Amounts struct {
	// Captured is what was taken, Refunded what went back, Paid the
	// difference (never negative); Authorized and Voided are the
	// authorizations made and released; RefundPending is refunds asked
	// and not settled.
	Captured, Refunded, Paid, Authorized, Voided, RefundPending money.Money
}

// AmountsOf returns each order's amounts (staff, payment read), derived
// from the balance rows the ledger keeps; an order without payments has
// none in the map.
func (s *Service) AmountsOf(ctx context.Context, orderIDs []string) (map[string]Amounts, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	rows, err := s.store.Balances(ctx, batch(orderIDs))
	if err != nil {
		return nil, err
	}
	out := make(map[string]Amounts, len(rows))
	for _, b := range rows {
		c := b.Currency
		out[b.OrderID] = Amounts{Captured: money.New(b.Captured, c), Refunded: money.New(b.Refunded, c), Paid: b.Paid(),
			Authorized: money.New(b.Authorized, c), Voided: money.New(b.Voided, c), RefundPending: money.New(b.RefundReserved, c)}
	}
	return out, nil
}

// OrderPayments is what an order's buyer may see of its payments.
type OrderPayments struct {
	// Attempts and Refunds are oldest first.
	Attempts []*Attempt
	Refunds  []*Refund
	// Amounts are the order's; nil when no money moved.
	Amounts *Amounts
}

// OpenedOrder is an order the caller already read in this request through
// the order service, which let them read it: by id (the order service
// checked the caller may read it) or by a guest's access token (the token
// opened it). PaymentsOfOpenedOrders takes it on trust, so the status
// page's poll reads the order once: build it only from what the order
// service returned, never from a client's input.
type OpenedOrder struct {
	// ID is the order's id.
	ID string
	// CustomerID is the order's buyer; empty for a guest's order.
	CustomerID string
	// ByAccessToken says the order was read by the guest's access token
	// (the token opened it), not by id.
	ByAccessToken bool
}

// PaymentsOfOpenedOrders returns the attempts, refunds and amounts of each
// opened order the caller may see as its buyer (payment read:own): a
// signed-in buyer's own orders, or the order a guest's access token
// opened (one: a token opens one order); staff with payment read see
// every order. Orders the caller may not see are left out of the map.
// The orders are not read again (the caller read them); the payments are
// read in one query per table.
func (s *Service) PaymentsOfOpenedOrders(ctx context.Context, orders []OpenedOrder) (map[string]*OrderPayments, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	if len(orders) > MaxBatch {
		orders = orders[:MaxBatch]
	}
	staff := s.authz.Can(ctx, authz.Payment, authz.Read) == nil
	ids := make([]string, 0, len(orders))
	byToken := false
	for _, o := range orders {
		switch {
		case o.ID == "":
			continue
		case staff:
		case o.ByAccessToken:
			// The token opened the order, which is all a guest needs
			// (ownOrder asks no more); a token opens one order.
			if byToken {
				continue
			}
			byToken = true
		case authz.CanOwn(ctx, s.authz, authz.Payment, authz.Read, o.CustomerID) != nil:
			continue // not the caller's order
		}
		ids = append(ids, o.ID)
	}
	out := make(map[string]*OrderPayments, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	for _, id := range ids {
		out[id] = &OrderPayments{Attempts: []*Attempt{}, Refunds: []*Refund{}}
	}
	atts, err := s.store.AttemptsOfOrders(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		out[a.OrderID].Attempts = append(out[a.OrderID].Attempts, a)
	}
	refs, err := s.store.RefundsOfOrders(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		out[r.OrderID].Refunds = append(out[r.OrderID].Refunds, r)
	}
	bs, err := s.store.Balances(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		c := b.Currency
		out[b.OrderID].Amounts = &Amounts{Captured: money.New(b.Captured, c), Refunded: money.New(b.Refunded, c), Paid: b.Paid(),
			Authorized: money.New(b.Authorized, c), Voided: money.New(b.Voided, c), RefundPending: money.New(b.RefundReserved, c)}
	}
	return out, nil
}
