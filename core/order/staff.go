package order

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/transition"
)

// Limits of what staff write on an order, in characters.
const (
	MaxReason   = 1000
	MaxNote     = 5000
	MaxCarrier  = 100
	MaxTracking = 200
)

// The payment statuses an order may be cancelled in: no money was taken,
// or what was held was given back. An authorized order needs a void, a
// paid one a refund, before it can be cancelled (the payment domain).
var cancellablePayments = []PaymentStatus{PaymentPending, PaymentFailed, PaymentVoided}

// Cancel cancels an open order of which nothing shipped and no money is
// held, and releases its reserved stock, in one transaction; it emits
// kassa.order.cancelled. Needs order write: staff, or the platform. The
// reason is required and shown to the buyer. Refused with
// ORDER_ALREADY_SHIPPED once something shipped and
// ORDER_PAYMENT_NOT_PENDING once money moved; a caller who lost a race
// gets STALE_STATE and nothing is written.
//
// First, outside the transaction, the payment attempts of the order
// still open at their gateways are closed there (PaymentCloser), so that
// the buyer cannot pay the cancelled order: ORDER_PAYMENT_NOT_PENDING
// when a gateway says the buyer paid (the payment is applied: refund or
// void it first), ORDER_PAYMENT_OPEN, retryable, when a gateway could not
// be reached or a payment is being started. Money possibly on its way is
// never left behind a cancelled order.
func (s *Service) Cancel(ctx context.Context, in CancelInput) (*Order, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validator
	v.Check(in.Reason != "", "reason", CodeReasonRequired, "say why the order is cancelled")
	v.Check(utf8.RuneCountInString(in.Reason) <= MaxReason, "reason", CodeTooLong, fmt.Sprintf("at most %d characters", MaxReason))
	if err := v.Err(); err != nil {
		return nil, err
	}
	o, err := s.store.OrderByID(ctx, in.OrderID)
	if err != nil {
		return nil, err
	}
	if err := cancellable(Statuses, o, cancellablePayments); err != nil {
		return nil, err
	}
	if err := s.closePayments(ctx, o, closeCancelled); err != nil {
		return nil, err
	}
	return s.cancelClosed(ctx, in.OrderID, in.Reason)
}

// cancelClosed is Cancel's transaction, once the order's payments were
// closed (closePayments): it refuses with ORDER_PAYMENT_OPEN when a
// payment started since.
func (s *Service) cancelClosed(ctx context.Context, orderID, reason string) (*Order, error) {
	return s.inOrderTx(ctx, orderID, func(ctx context.Context, o *Order) (*Order, error) {
		if err := cancellable(Statuses, o, cancellablePayments); err != nil {
			return nil, err
		}
		if err := s.paymentsClosed(ctx, o); err != nil {
			return nil, err
		}
		return s.cancel(ctx, o, s.statuses, reason, cancellablePayments)
	})
}

// inOrderTx reads the order and runs fn on it in one transaction.
func (s *Service) inOrderTx(ctx context.Context, orderID string, fn func(ctx context.Context, o *Order) (*Order, error)) (*Order, error) {
	var out *Order
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		o, err := s.store.OrderByID(ctx, orderID)
		if err != nil {
			return err
		}
		out, err = fn(ctx, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// hold runs g as a change's first write: it stamps the order if, and
// only if, its dimensions are still as g says, and answers STALE_STATE
// when a concurrent change moved them since the order was read.
func (s *Service) hold(ctx context.Context, orderID string, g guard) error {
	ok, err := s.store.Guard(ctx, orderID, g)
	if err != nil {
		return err
	}
	if !ok {
		return stale(orderID)
	}
	return nil
}

// cancellable checks o against the table's move to CANCELLED and the rules
// across dimensions: nothing shipped, the payment in one of payments.
func cancellable(t *transition.Table[Status], o *Order, payments []PaymentStatus) error {
	if o.Status != Open {
		// Cancelled or completed: said as paying such an order says it.
		return notOpen(o)
	}
	if err := t.Check(o.Status, Cancelled); err != nil {
		return err
	}
	if o.FulfillmentStatus != Unfulfilled {
		return errs.Conflict("", CodeAlreadyShipped, fmt.Sprintf("order %s is %s: it cannot be cancelled", o.Number, o.FulfillmentStatus))
	}
	if !slices.Contains(payments, o.PaymentStatus) {
		if t == BuyerStatuses {
			// The buyer cannot void or refund: the shop can.
			return errs.Conflict("", CodePaymentNotPending, fmt.Sprintf("order %s has a payment: ask the shop to cancel it and refund you", o.Number))
		}
		return errs.Conflict("", CodePaymentNotPending, fmt.Sprintf("order %s is %s: its payment must be voided or refunded first", o.Number, o.PaymentStatus))
	}
	return nil
}

// cancel moves o to CANCELLED with m and releases its stock, in ctx's
// transaction. The guard re-checks, as the first write, what cancellable
// checked on the order as read.
func (s *Service) cancel(ctx context.Context, o *Order, m *transition.Machine[Status], reason string, payments []PaymentStatus) (*Order, error) {
	if err := s.hold(ctx, o.ID, guard{status: []Status{Open}, payment: payments,
		fulfillment: []FulfillmentStatus{Unfulfilled}, now: s.now(), cancelled: true}); err != nil {
		return nil, err
	}
	if _, err := m.Apply(ctx, transition.Move[Status]{ID: o.ID, From: Open, To: Cancelled, Reason: reason,
		Payload: moved(o, MachineStatus, string(Open), string(Cancelled), reason)}); err != nil {
		return nil, err
	}
	lines, err := s.store.Lines(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	var release []catalog.ReservationLine
	for _, l := range lines {
		if q := l.Unshipped(); q > 0 {
			release = append(release, catalog.ReservationLine{VariantID: l.VariantID, Quantity: q})
		}
	}
	if len(release) > 0 {
		if err := s.stock.Release(ctx, o.ID, release); err != nil {
			return nil, err
		}
	}
	return s.store.OrderByID(ctx, o.ID)
}

// Ship records a parcel leaving with some units of an order's lines: the
// lines count them as shipped, their reserved stock becomes shipped stock
// (StockReserver.Commit, the shipment as reference), the fulfillment
// status moves to PARTIALLY_FULFILLED or FULFILLED, and
// kassa.order.shipped is emitted, all in one transaction. Orders may ship
// in several parcels; a parcel that leaves the status as it was still
// writes a timeline row and the event. Needs order write. Refused for an
// order that is not open (ORDER_NOT_OPEN) or has nothing left to ship
// (ORDER_NOTHING_TO_SHIP), and for more units than a line has left.
func (s *Service) Ship(ctx context.Context, in ShipInput) (*Shipment, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	in.Carrier, in.TrackingNumber = strings.TrimSpace(in.Carrier), strings.TrimSpace(in.TrackingNumber)
	var v errs.Validator
	v.Check(utf8.RuneCountInString(in.Carrier) <= MaxCarrier, "carrier", CodeTooLong, fmt.Sprintf("at most %d characters", MaxCarrier))
	v.Check(utf8.RuneCountInString(in.TrackingNumber) <= MaxTracking, "trackingNumber", CodeTooLong, fmt.Sprintf("at most %d characters", MaxTracking))
	v.Check(len(in.Lines) > 0, "lines", CodeRequired, "a shipment holds at least one line")
	// A parcel holds at most the lines an order has: a longer list is
	// refused whole, one error rather than one per line.
	v.Check(len(in.Lines) <= MaxLines, "lines", CodeTooMany, fmt.Sprintf("an order has at most %d lines", MaxLines))
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Shipment
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		o, err := s.store.OrderByID(ctx, in.OrderID)
		if err != nil {
			return err
		}
		if o.Status != Open {
			return notOpen(o)
		}
		if o.FulfillmentStatus != Unfulfilled && o.FulfillmentStatus != PartiallyFulfilled {
			return errs.Conflict("", CodeNothingToShip, fmt.Sprintf("order %s is %s: nothing is left to ship", o.Number, o.FulfillmentStatus))
		}
		lines, err := s.store.Lines(ctx, o.ID)
		if err != nil {
			return err
		}
		draw, err := shipmentLines(in.Lines, lines)
		if err != nil {
			return err
		}
		now := s.now()
		if err := s.hold(ctx, o.ID, guard{status: []Status{Open}, fulfillment: []FulfillmentStatus{o.FulfillmentStatus}, now: now}); err != nil {
			return err
		}
		sh := &Shipment{ID: id.New("shp"), OrderID: o.ID, Carrier: in.Carrier, TrackingNumber: in.TrackingNumber,
			CreatedBy: actor(ctx), CreatedAt: now}
		var commit []catalog.ReservationLine
		for _, l := range lines {
			q := draw[l.ID]
			if q == 0 {
				continue
			}
			// The guard holds the order; a line still refusing means
			// another shipment of it committed meanwhile on a
			// PARTIALLY_FULFILLED order.
			shipped, err := s.store.AddShipped(ctx, o.ID, l.ID, q)
			if err != nil {
				return err
			}
			if !shipped {
				return stale(o.ID)
			}
			sh.Lines = append(sh.Lines, &ShipmentLine{ShipmentID: sh.ID, OrderLineID: l.ID, Quantity: q})
			commit = append(commit, catalog.ReservationLine{VariantID: l.VariantID, Quantity: q})
		}
		if err := s.store.InsertShipment(ctx, sh); err != nil {
			return err
		}
		if err := s.stock.Commit(ctx, sh.ID, commit); err != nil {
			return err
		}
		// Read again: under the guard the lines hold this shipment and
		// any other that committed before it.
		if lines, err = s.store.Lines(ctx, o.ID); err != nil {
			return err
		}
		next := Fulfilled
		for _, l := range lines {
			if l.Unshipped() > 0 {
				next = PartiallyFulfilled
			}
		}
		payload := ShippedEvent{Moved: moved(o, MachineFulfillment, string(o.FulfillmentStatus), string(next), ""),
			ShipmentID: sh.ID, Carrier: sh.Carrier, TrackingNumber: sh.TrackingNumber}
		if next != o.FulfillmentStatus {
			if _, err := s.fulfillments.Apply(ctx, transition.Move[FulfillmentStatus]{ID: o.ID, From: o.FulfillmentStatus, To: next, Payload: payload}); err != nil {
				return err
			}
		} else if err := s.note(ctx, o.ID, MachineShipment, string(next), "", VisibleToBuyer, SubjectShipped, payload); err != nil {
			return err
		}
		out = sh
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// shipmentLines checks the lines of a shipment against the order's and
// returns the quantity drawn on each order line, by line id.
func shipmentLines(in []ShipLine, lines []*Line) (map[string]int64, error) {
	byID := make(map[string]*Line, len(lines))
	for _, l := range lines {
		byID[l.ID] = l
	}
	var v errs.Validator
	draw := make(map[string]int64, len(in))
	for i, sl := range in {
		f := "lines." + strconv.Itoa(i)
		l, ok := byID[sl.LineID]
		switch {
		case sl.LineID == "":
			v.Add(errs.Invalid(f+".lineId", CodeRequired, "required"))
			continue
		case !ok:
			v.Add(errs.Invalid(f+".lineId", CodeUnknownLine, "not a line of this order"))
			continue
		case draw[sl.LineID] != 0:
			v.Add(errs.Invalid(f+".lineId", CodeDuplicateLine, "this line is listed twice"))
			continue
		}
		if sl.Quantity <= 0 || sl.Quantity > l.Unshipped() {
			v.Add(errs.Invalid(f+".quantity", CodeInvalidQuantity, fmt.Sprintf("between 1 and %d, the units of this line not shipped yet", l.Unshipped())))
			continue
		}
		draw[sl.LineID] = sl.Quantity
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return draw, nil
}

// MarkDelivered records that every shipment of a fulfilled order arrived:
// FULFILLED -> DELIVERED, kassa.order.delivered. Needs order write.
func (s *Service) MarkDelivered(ctx context.Context, orderID string) (*Order, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	return s.inOrderTx(ctx, orderID, func(ctx context.Context, o *Order) (*Order, error) {
		if err := FulfillmentStatuses.Check(o.FulfillmentStatus, Delivered); err != nil {
			return nil, err
		}
		now := s.now()
		if err := s.hold(ctx, o.ID, guard{fulfillment: []FulfillmentStatus{Fulfilled}, now: now}); err != nil {
			return nil, err
		}
		if _, err := s.fulfillments.Apply(ctx, transition.Move[FulfillmentStatus]{ID: o.ID, From: Fulfilled, To: Delivered,
			Payload: moved(o, MachineFulfillment, string(Fulfilled), string(Delivered), "")}); err != nil {
			return nil, err
		}
		if err := s.store.MarkShipmentsDelivered(ctx, o.ID, now); err != nil {
			return nil, err
		}
		return s.store.OrderByID(ctx, o.ID)
	})
}

// Complete closes an open order whose every unit shipped (FULFILLED or
// DELIVERED): OPEN -> COMPLETED, kassa.order.completed. Needs order write;
// ORDER_NOT_FULFILLED while units are left to ship.
func (s *Service) Complete(ctx context.Context, orderID string) (*Order, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	done := []FulfillmentStatus{Fulfilled, Delivered}
	return s.inOrderTx(ctx, orderID, func(ctx context.Context, o *Order) (*Order, error) {
		if err := Statuses.Check(o.Status, Completed); err != nil {
			return nil, err
		}
		if !slices.Contains(done, o.FulfillmentStatus) {
			return nil, errs.Conflict("", CodeNotFulfilled, fmt.Sprintf("order %s is %s: ship every unit first", o.Number, o.FulfillmentStatus))
		}
		if err := s.hold(ctx, o.ID, guard{status: []Status{Open}, fulfillment: done, now: s.now(), completed: true}); err != nil {
			return nil, err
		}
		if _, err := s.statuses.Apply(ctx, transition.Move[Status]{ID: o.ID, From: Open, To: Completed,
			Payload: moved(o, MachineStatus, string(Open), string(Completed), "")}); err != nil {
			return nil, err
		}
		return s.store.OrderByID(ctx, o.ID)
	})
}

// AddNote adds a staff note to an order, with a staff-only timeline
// entry. Needs order write. Notes emit no event: nobody outside the admin
// acts on them.
func (s *Service) AddNote(ctx context.Context, in AddNoteInput) (*Note, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	in.Body = strings.TrimSpace(in.Body)
	var v errs.Validator
	v.Check(in.Body != "", "body", CodeRequired, "a note says something")
	v.Check(utf8.RuneCountInString(in.Body) <= MaxNote, "body", CodeTooLong, fmt.Sprintf("at most %d characters", MaxNote))
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Note
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		o, err := s.store.OrderByID(ctx, in.OrderID)
		if err != nil {
			return err
		}
		n := &Note{ID: id.New("note"), OrderID: o.ID, Body: in.Body, AuthorID: actor(ctx), CreatedAt: s.now()}
		if err := s.store.InsertNote(ctx, n); err != nil {
			return err
		}
		if err := s.note(ctx, o.ID, MachineNote, "", in.Body, StaffOnly, "", nil); err != nil {
			return err
		}
		out = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// note writes a timeline row that is not a move of a machine (state is
// both its from and to state) and, when subject is set, its event.
func (s *Service) note(ctx context.Context, orderID, machine, state, reason string, vis Visibility, subject string, payload any) error {
	sub := authz.SubjectFrom(ctx)
	now := s.now()
	e := &TimelineEntry{ID: id.New(transition.TimelineIDPrefix), OrderID: orderID, Machine: machine,
		FromState: state, ToState: state, ActorKind: string(sub.Kind), Actor: nullable(sub.ID), Reason: nullable(reason),
		CreatedAt: now, Visibility: vis}
	var ev events.Event
	if subject != "" {
		var err error
		if ev, err = events.New(subject, payload); err != nil {
			return fmt.Errorf("order: %w", err)
		}
		ev.OccurredAt, ev.Actor = now, actor(ctx)
		e.EventID = ev.ID
	}
	if err := s.store.InsertTimeline(ctx, e); err != nil {
		return err
	}
	if subject == "" {
		return nil
	}
	return s.outbox.Add(ctx, ev)
}

// MovePaymentOf moves the payment status of the order v, as the caller
// read it in the transaction carried by ctx, from v.PaymentStatus to to,
// as PaymentStatuses allows and only for the platform, as MovePayment
// does, without reading the order: one conditional UPDATE of the status,
// updated_at and v.PaymentMethod (when set), the timeline row and the
// event. STALE_STATE
// (transition.IsStale) when the status is no longer v's; nothing is
// written then. On success v.PaymentStatus is to.
func (s *Service) MovePaymentOf(ctx context.Context, v *PaymentView, to PaymentStatus, reason string) error {
	if _, err := PaymentStatuses.Rule(v.PaymentStatus, to); err != nil {
		return err
	}
	if sub := authz.SubjectFrom(ctx); !sub.IsSystem() {
		return errs.Forbidden(transition.CodeForbidden, "only the platform moves an order's payment status")
	}
	m := Moved{OrderID: v.ID, Number: v.Number, Machine: MachinePayment, From: string(v.PaymentStatus), To: string(to), Reason: reason}
	if v.CustomerID != nil {
		m.CustomerID = *v.CustomerID
	}
	set := []transition.Column{{Name: "updated_at", Value: s.now()}}
	if v.PaymentMethod != "" {
		// The gateway whose money moves the order, written with its status.
		set = append(set, transition.Column{Name: "payment_method", Value: v.PaymentMethod})
	}
	if _, err := s.payments.Apply(ctx, transition.Move[PaymentStatus]{ID: v.ID, From: v.PaymentStatus, To: to, Reason: reason,
		Payload: m, Set: set}); err != nil {
		return err
	}
	v.PaymentStatus = to
	return nil
}

// SetPaymentMethod records the gateway plugin the buyer chose to pay the
// order v with (Order.PaymentMethod), in the transaction of ctx, when it
// is another than v's: the payment domain calls it as a payment starts.
// Only the platform may.
func (s *Service) SetPaymentMethod(ctx context.Context, v *PaymentView, method string) error {
	if sub := authz.SubjectFrom(ctx); !sub.IsSystem() {
		return errs.Forbidden(transition.CodeForbidden, "only the platform sets an order's payment method")
	}
	if v.PaymentMethod == method {
		return nil
	}
	if err := s.store.SetPaymentMethod(ctx, v.ID, method, s.now()); err != nil {
		return err
	}
	v.PaymentMethod = method
	return nil
}

// MovePayment moves an order's payment status from mv.From to mv.To, as
// PaymentStatuses allows: only the platform may (the payment domain's
// verified notifications and reconciler run as system subjects); others
// get TRANSITION_FORBIDDEN. A caller whose From is no longer the status
// gets STALE_STATE (transition.IsStale) and nothing is written: a
// duplicate notification is not applied twice.
func (s *Service) MovePayment(ctx context.Context, mv PaymentMove) (*Order, error) {
	if _, err := PaymentStatuses.Rule(mv.From, mv.To); err != nil {
		return nil, err
	}
	if sub := authz.SubjectFrom(ctx); !sub.IsSystem() {
		return nil, errs.Forbidden(transition.CodeForbidden, "only the platform moves an order's payment status")
	}
	var out *Order
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		o, err := s.store.OrderByID(ctx, mv.OrderID)
		if err != nil {
			return err
		}
		if _, err := s.payments.Apply(ctx, transition.Move[PaymentStatus]{ID: o.ID, From: mv.From, To: mv.To, Reason: mv.Reason,
			Payload: moved(o, MachinePayment, string(mv.From), string(mv.To), mv.Reason),
			Set:     []transition.Column{{Name: "updated_at", Value: s.now()}}}); err != nil {
			return err
		}
		out, err = s.store.OrderByID(ctx, o.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
