package order

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
)

// MaxBulk is the most orders one bulk action acts on.
const MaxBulk = 1000

// BulkScope is the idempotency scope of staff bulk actions.
const BulkScope = "order.bulk"

// CodeAmbiguousSelection: a bulk action names its orders both by id and
// by filter.
const CodeAmbiguousSelection = "AMBIGUOUS_SELECTION"

// BulkAction names what a bulk action does to each order.
type BulkAction string

// The bulk actions.
const (
	BulkShip   BulkAction = "SHIP"
	BulkCancel BulkAction = "CANCEL"
	BulkNote   BulkAction = "NOTE"
)

// BulkSelection names the orders of a bulk action: by id, or by the
// filter of the staff's list (Service.List) when IDs is empty. Exactly one
// of the two is given; either selects at most MaxBulk orders (a filter
// matching more is refused, not cut short).
type BulkSelection struct {
	// IDs are acted on in the order given; a repeated id counts once.
	IDs []string
	// Filter selects the orders in its own sort order.
	Filter *Filter
}

// BulkShipInput ships everything still to ship of each selected order,
// one parcel per order.
type BulkShipInput struct {
	Orders BulkSelection
	// Carrier is optional and the same for every parcel; tracking numbers
	// are per parcel, so a bulk shipment has none.
	Carrier string
	// IdempotencyKey makes a retried call return the first call's result
	// instead of acting again. Required.
	IdempotencyKey string
}

// BulkCancelInput cancels each selected order, as Cancel does.
type BulkCancelInput struct {
	Orders BulkSelection
	// Reason is required and shown to each buyer.
	Reason string
	// IdempotencyKey as in BulkShipInput. Required.
	IdempotencyKey string
}

// BulkNoteInput adds the same staff note to each selected order.
type BulkNoteInput struct {
	Orders BulkSelection
	Body   string
	// IdempotencyKey as in BulkShipInput. Required.
	IdempotencyKey string
}

// BulkOutcome is what a bulk action did to one order.
type BulkOutcome struct {
	OrderID string `json:"orderId"`
	// Number is the order's number; empty when there is no such order.
	Number string `json:"number,omitempty"`
	// Code is empty when the action succeeded on this order, otherwise
	// the code of the error it met (ORDER_NOT_FOUND, ORDER_NOT_OPEN,
	// ORDER_ALREADY_SHIPPED, STALE_STATE, ...), with its Message.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// OK reports whether the action succeeded on the order.
func (o BulkOutcome) OK() bool { return o.Code == "" }

// BulkResult is the outcome of a bulk action, order by order, in the
// order of the selection.
type BulkResult struct {
	Action    BulkAction    `json:"action"`
	Outcomes  []BulkOutcome `json:"outcomes"`
	Succeeded int           `json:"succeeded"`
	Failed    int           `json:"failed"`
	// Replayed is set when the result is the stored one of an earlier
	// call with the same idempotency key: nothing was done this time.
	Replayed bool `json:"-"`
}

// BulkShip ships, in one parcel per order, every unit still to ship of
// each selected order (Ship). Needs order write.
func (s *Service) BulkShip(ctx context.Context, in BulkShipInput) (*BulkResult, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	carrier := strings.TrimSpace(in.Carrier)
	var v errs.Validator
	v.Check(utf8.RuneCountInString(carrier) <= MaxCarrier, "carrier", CodeTooLong, fmt.Sprintf("at most %d characters", MaxCarrier))
	checkSelection(&v, in.Orders)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.bulk(ctx, BulkShip, in.Orders, in.IdempotencyKey, map[string]string{"carrier": carrier}, func(ctx context.Context, o *Order) error {
		lines, err := s.store.Lines(ctx, o.ID)
		if err != nil {
			return err
		}
		var ship []ShipLine
		for _, l := range lines {
			if q := l.Unshipped(); q > 0 {
				ship = append(ship, ShipLine{LineID: l.ID, Quantity: q})
			}
		}
		if len(ship) == 0 {
			return errs.Conflict("", CodeNothingToShip, fmt.Sprintf("order %s has nothing left to ship", o.Number))
		}
		_, err = s.Ship(ctx, ShipInput{OrderID: o.ID, Lines: ship, Carrier: carrier})
		return err
	})
}

// BulkCancel cancels each selected order with one reason (Cancel). Needs
// order write. The open payments of the orders are closed at their
// gateways first, order by order, before the bulk's transaction (no
// gateway is called inside one); an order selected in the transaction
// but not before (a filter matching it meanwhile) is refused with
// ORDER_PAYMENT_OPEN. A repeat of a call with the same key closes the
// payments of the orders still cancellable before it finds the stored
// result.
func (s *Service) BulkCancel(ctx context.Context, in BulkCancelInput) (*BulkResult, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	var v errs.Validator
	v.Check(reason != "", "reason", CodeReasonRequired, "say why the orders are cancelled")
	v.Check(utf8.RuneCountInString(reason) <= MaxReason, "reason", CodeTooLong, fmt.Sprintf("at most %d characters", MaxReason))
	checkSelection(&v, in.Orders)
	if err := v.Err(); err != nil {
		return nil, err
	}
	params := map[string]string{"reason": reason}
	// Payments are closed at their gateways before the bulk's transaction,
	// so only for a call the bulk will run: a call it refuses whole (its
	// key taken by another request, a filter matching too many) or
	// replays closes nothing.
	request, err := bulkRequestOf(ctx, BulkCancel, in.Orders, params)
	if err != nil {
		return nil, err
	}
	closed := map[string]error{}
	replay, err := s.keys.Lookup(ctx, BulkScope, in.IdempotencyKey, request)
	if err != nil {
		return nil, err
	}
	if !replay {
		if closed, err = s.closeSelected(ctx, in.Orders); err != nil {
			return nil, err
		}
	}
	return s.bulk(ctx, BulkCancel, in.Orders, in.IdempotencyKey, params, func(ctx context.Context, o *Order) error {
		refusal, ok := closed[o.ID]
		switch {
		case !ok:
			return paymentOpen(o)
		case refusal != nil:
			return refusal
		}
		_, err := s.cancelClosed(ctx, o.ID, reason)
		return err
	})
}

// closeSelected closes the open payments of each selected order that may
// be cancelled (closePayments), outside any transaction, and returns by
// order id why an order must not be cancelled (nil: it may). An order
// that cannot be cancelled gets its reason; a selection the bulk's
// transaction refuses (a filter's error) selects nothing here.
func (s *Service) closeSelected(ctx context.Context, sel BulkSelection) (map[string]error, error) {
	var orders []*Order
	if sel.Filter != nil {
		p, err := s.List(ctx, *sel.Filter, page.Request{First: MaxBulk})
		if len(errs.All(err)) > 0 {
			return map[string]error{}, nil
		}
		if err != nil {
			return nil, err
		}
		if p.HasNext {
			return map[string]error{}, nil // runBulk refuses it: TOO_MANY
		}
		orders = p.Items
	} else {
		found, err := s.store.OrdersByIDs(ctx, dedupe(sel.IDs))
		if err != nil {
			return nil, err
		}
		for _, o := range found {
			orders = append(orders, o)
		}
	}
	out := make(map[string]error, len(orders))
	for _, o := range orders {
		err := cancellable(Statuses, o, cancellablePayments)
		if err == nil {
			err = s.closePayments(ctx, o, closeCancelled)
		}
		if err != nil && len(errs.All(err)) == 0 {
			return nil, fmt.Errorf("order %s: %w", o.ID, err)
		}
		out[o.ID] = err
	}
	return out, nil
}

// BulkAddNote adds one staff note to each selected order (AddNote).
// Needs order write.
func (s *Service) BulkAddNote(ctx context.Context, in BulkNoteInput) (*BulkResult, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	body := strings.TrimSpace(in.Body)
	var v errs.Validator
	v.Check(body != "", "body", CodeRequired, "a note says something")
	v.Check(utf8.RuneCountInString(body) <= MaxNote, "body", CodeTooLong, fmt.Sprintf("at most %d characters", MaxNote))
	checkSelection(&v, in.Orders)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.bulk(ctx, BulkNote, in.Orders, in.IdempotencyKey, map[string]string{"body": body}, func(ctx context.Context, o *Order) error {
		_, err := s.AddNote(ctx, AddNoteInput{OrderID: o.ID, Body: body})
		return err
	})
}

// checkSelection checks the shape of a selection; a filter's own
// problems are found when it runs.
func checkSelection(v *errs.Validator, sel BulkSelection) {
	switch {
	case len(sel.IDs) > 0 && sel.Filter != nil:
		v.Add(errs.Invalid("orders", CodeAmbiguousSelection, "name the orders by id or by filter, not both"))
	case len(sel.IDs) == 0 && sel.Filter == nil:
		v.Add(errs.Invalid("orders", CodeRequired, "name the orders by id or by filter"))
	case len(sel.IDs) > MaxBulk:
		v.Add(errs.Invalid("orders.ids", CodeTooMany, fmt.Sprintf("at most %d orders at once", MaxBulk)))
	}
	for i, id := range sel.IDs {
		v.Check(strings.TrimSpace(id) != "", "orders.ids."+strconv.Itoa(i), CodeRequired, "required")
	}
}

// bulkRequest is what a bulk action's idempotency key is bound to: the
// caller, the action, its selection and its parameters. Another staff
// member reusing the key, or the same one asking for something else, is
// refused (IDEMPOTENCY_KEY_REUSED) rather than handed a stored result.
type bulkRequest struct {
	Caller string            `json:"caller"`
	Action BulkAction        `json:"action"`
	IDs    []string          `json:"ids,omitempty"`
	Filter *Filter           `json:"filter,omitempty"`
	Params map[string]string `json:"params"`
}

// bulk runs act on each selected order under the idempotency key, in one
// transaction with the key: each order under a savepoint of its own, so
// that an order whose action fails is left as it was and the others go
// on. Domain errors become the order's outcome; any other error (the
// database) fails the whole call, and nothing is kept.
func (s *Service) bulk(ctx context.Context, action BulkAction, sel BulkSelection, key string, params map[string]string,
	act func(ctx context.Context, o *Order) error) (*BulkResult, error) {
	ids := dedupe(sel.IDs)
	request, err := bulkRequestOf(ctx, action, sel, params)
	if err != nil {
		return nil, err
	}
	var out *BulkResult
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		raw, err := s.keys.Do(ctx, BulkScope, key, request, func(ctx context.Context) ([]byte, error) {
			res, err := s.runBulk(ctx, action, ids, sel.Filter, act)
			if err != nil {
				return nil, err
			}
			out = res
			return json.Marshal(res)
		})
		if err != nil {
			return err
		}
		if out == nil {
			out = &BulkResult{Replayed: true}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("order: read the stored bulk result: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bulkRequestOf is what the key of a bulk action by the caller in ctx is
// bound to.
func bulkRequestOf(ctx context.Context, action BulkAction, sel BulkSelection, params map[string]string) ([]byte, error) {
	sub := authz.SubjectFrom(ctx)
	request, err := json.Marshal(bulkRequest{Caller: string(sub.Kind) + ":" + sub.ID, Action: action, IDs: dedupe(sel.IDs), Filter: sel.Filter, Params: params})
	if err != nil {
		return nil, fmt.Errorf("order: bulk request: %w", err)
	}
	return request, nil
}

// runBulk selects the orders and acts on each.
func (s *Service) runBulk(ctx context.Context, action BulkAction, ids []string, f *Filter, act func(ctx context.Context, o *Order) error) (*BulkResult, error) {
	var orders []*Order
	res := &BulkResult{Action: action, Outcomes: []BulkOutcome{}}
	if f != nil {
		p, err := s.List(ctx, *f, page.Request{First: MaxBulk})
		if err != nil {
			return nil, prefixFields(err, "orders", "filter")
		}
		if p.HasNext {
			return nil, errs.Invalid("orders.filter", CodeTooMany, fmt.Sprintf("the filter matches more than %d orders; narrow it", MaxBulk))
		}
		for _, o := range p.Items {
			orders = append(orders, o)
			res.Outcomes = append(res.Outcomes, BulkOutcome{OrderID: o.ID, Number: o.Number})
		}
	} else {
		found, err := s.store.OrdersByIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			o, ok := found[id]
			if !ok {
				nf := orderNotFound()
				res.Outcomes = append(res.Outcomes, BulkOutcome{OrderID: id, Code: nf.Code, Message: nf.Message})
				continue
			}
			orders = append(orders, o)
			res.Outcomes = append(res.Outcomes, BulkOutcome{OrderID: id, Number: o.Number})
		}
	}
	byID := make(map[string]*Order, len(orders))
	for _, o := range orders {
		byID[o.ID] = o
	}
	for i := range res.Outcomes {
		oc := &res.Outcomes[i]
		o, ok := byID[oc.OrderID]
		if !ok {
			res.Failed++
			continue
		}
		err := s.store.Savepoint(ctx, "order_bulk", func() error { return act(ctx, o) })
		if err != nil {
			all := errs.All(err)
			if len(all) == 0 {
				return nil, fmt.Errorf("order %s: %w", o.ID, err)
			}
			oc.Code, oc.Message = all[0].Code, all[0].Message
			res.Failed++
			continue
		}
		res.Succeeded++
	}
	return res, nil
}

// dedupe returns ids without repeats, in their first order.
func dedupe(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// prefixFields returns err with the field paths of its domain errors
// prefixed by path; other errors unchanged.
func prefixFields(err error, path ...string) error {
	all := errs.All(err)
	if len(all) == 0 {
		return err
	}
	out := make(errs.List, len(all))
	for i, e := range all {
		out[i] = e.WithField(path...)
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}
