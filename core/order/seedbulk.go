package order

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// MaxSeedBatch is the most orders one InsertSeedOrders call writes: its
// rows go in a handful of multi-row INSERTs, and a batch this size keeps
// each statement and the transaction holding the SQLite write lock short.
const MaxSeedBatch = 5000

// seedChunk is how many rows one multi-row INSERT of InsertSeedOrders
// carries.
const seedChunk = 500

// SeedOrder is an order with its history, as the demo seeder makes them
// for list benchmarks (kassa seed orders): placed at PlacedAt, then paid,
// shipped in one parcel, delivered, and completed or cancelled, each step
// at its own time and each only if its time is set. The steps obey the
// rules the service's operations obey; InsertSeedOrders refuses a history
// no sequence of those operations could have produced.
type SeedOrder struct {
	// Place is the order as checkout placed it; it is checked as Place
	// checks it. CartID only has to be unique: seeded orders have no
	// cart.
	Place PlaceInput
	// PlacedAt is when the order was placed; it is its created_at. An
	// order still open and unpaid must be within its payment deadline
	// (the deadline closer would otherwise cancel it at once).
	PlacedAt time.Time

	// PaidAt, when set, is when the payment was taken with
	// PaymentMethod (the id of a gateway plugin): PENDING -> PAID.
	PaidAt        time.Time
	PaymentMethod string

	// Shipped, when set, holds the units of each line that left in one
	// parcel at ShippedAt (one entry per line of Place, each 0 to the
	// line's quantity); the fulfillment status follows from it.
	Shipped        []int64
	ShippedAt      time.Time
	Carrier        string
	TrackingNumber string
	// DeliveredAt, when set, is when the parcel arrived: FULFILLED ->
	// DELIVERED. Every unit must have shipped.
	DeliveredAt time.Time

	// CompletedAt, when set, is when staff closed the order (every unit
	// shipped); CancelledAt when it was cancelled, with CancelReason
	// (nothing shipped, nothing paid). At most one of them.
	CompletedAt  time.Time
	CancelledAt  time.Time
	CancelReason string
}

// seeded is one SeedOrder turned into rows.
type seeded struct {
	order     *Order
	lines     []*Line
	shipment  *Shipment
	timeline  []*TimelineEntry
	unshipped []catalog.ReservationLine
}

// TakeSeedNumbers takes n consecutive order numbers for InsertSeedOrders
// (in one statement, TakeSeqs) and returns the first. Taken in a
// transaction of their own, they let several InsertSeedOrders
// transactions run at once (on SQLite each would otherwise hold the
// sequence's row until it commits); numbers
// taken and never used stay unused, a gap in the numbering. Only the
// platform may take them.
func (s *Service) TakeSeedNumbers(ctx context.Context, n int) (int64, error) {
	if !authz.SubjectFrom(ctx).IsSystem() {
		return 0, errs.Forbidden(transition.CodeForbidden, "only the platform seeds orders")
	}
	if n <= 0 {
		return 0, errs.Invalid("", CodeInvalidQuantity, "take at least one number")
	}
	return s.store.TakeSeqs(ctx, int64(n))
}

// InsertSeedOrders writes orders with their past, in the transaction
// carried by ctx, for the demo seeder: numbered firstSeq, firstSeq+1, ...
// in the order of in (numbers TakeSeedNumbers handed out: others are
// refused, since checkout would hand them out again), the order rows
// with their lines, a shipment when something shipped, and a timeline
// row for every step, stamped at the step's time. The stock of what an
// open order has not shipped yet is reserved, per order and all or
// nothing, through the StockReserver, as Place reserves it, so staff can
// ship or cancel a seeded order like any other
// (*catalog.InsufficientStockError when a variant is short). Units that
// shipped are history: the catalog's stock on hand is taken to be counted
// after them, so they draw no stock.
//
// Only the platform may call it (the payment moves it records are the
// platform's): other callers get TRANSITION_FORBIDDEN. It emits no event
// and writes no outbox row: the orders are history, and nobody (mail,
// invoices, webhooks) must act on them now. It returns the orders in the
// order of in.
func (s *Service) InsertSeedOrders(ctx context.Context, firstSeq int64, in []SeedOrder) ([]*Order, error) {
	sub := authz.SubjectFrom(ctx)
	if !sub.IsSystem() {
		return nil, errs.Forbidden(transition.CodeForbidden, "only the platform seeds orders")
	}
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > MaxSeedBatch {
		return nil, errs.Invalid("", CodeTooMany, fmt.Sprintf("at most %d orders at once", MaxSeedBatch))
	}
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var v errs.Validator
	for i := range in {
		for _, e := range errs.All(validateSeed(&in[i], now, set.PaymentDeadline)) {
			v.Add(e.WithField(strconv.Itoa(i)))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := make([]*Order, len(in))
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		next, err := s.store.NextSeqValue(ctx)
		if err != nil {
			return err
		}
		if firstSeq <= 0 || firstSeq+int64(len(in)) > next {
			return errs.Invalid("firstSeq", CodeInvalidQuantity, "use numbers TakeSeedNumbers handed out")
		}
		rows := make([]seeded, len(in))
		for i := range in {
			seq := firstSeq + int64(i)
			if rows[i], err = buildSeeded(&in[i], seq, set.OrderNumberPrefix+strconv.FormatInt(seq, 10),
				set.PaymentDeadline, set.ReminderLead, sub); err != nil {
				return err
			}
			out[i] = rows[i].order
		}
		if err := s.store.InsertSeeded(ctx, rows); err != nil {
			return err
		}
		for i, r := range rows {
			if len(r.unshipped) == 0 {
				continue
			}
			if err := s.stock.Reserve(ctx, r.order.ID, r.unshipped); err != nil {
				return fmt.Errorf("order %d (%s): %w", i, r.order.Number, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// validateSeed checks one SeedOrder: its placement as Place checks it,
// then its history against the rules of the operations (paths relative
// to the SeedOrder, the placement's under "place").
func validateSeed(in *SeedOrder, now time.Time, deadline time.Duration) error {
	var v errs.Validator
	for _, e := range errs.All(validatePlace(&in.Place)) {
		v.Add(e.WithField("place"))
	}
	if err := v.Err(); err != nil {
		return err
	}
	// Each step happens after the one before it, and none in the future.
	after := func(field string, t, prev time.Time) {
		v.Check(t.IsZero() || (!t.Before(prev) && !t.After(now)), field, CodeInvalidDateRange,
			"a step happens after the one before it and not in the future")
	}
	v.Check(!in.PlacedAt.IsZero(), "placedAt", CodeRequired, "say when the order was placed")
	after("placedAt", in.PlacedAt, in.PlacedAt)
	last := in.PlacedAt
	step := func(field string, t time.Time) {
		after(field, t, last)
		if !t.IsZero() {
			last = t
		}
	}
	step("paidAt", in.PaidAt)
	v.Check(in.PaidAt.IsZero() || strings.TrimSpace(in.PaymentMethod) != "", "paymentMethod", CodeRequired, "a paid order names its gateway")

	var units, shipped int64
	for _, l := range in.Place.Lines {
		units += l.Quantity
	}
	if in.Shipped != nil {
		v.Check(len(in.Shipped) == len(in.Place.Lines), "shipped", CodeInvalidQuantity, "one entry per line")
		for i, q := range in.Shipped {
			if i < len(in.Place.Lines) {
				v.Check(q >= 0 && q <= in.Place.Lines[i].Quantity, "shipped."+strconv.Itoa(i), CodeInvalidQuantity,
					"between 0 and the line's quantity")
			}
			shipped += q
		}
	}
	v.Check((shipped > 0) == !in.ShippedAt.IsZero(), "shippedAt", CodeRequired, "a parcel has a time, and a time a parcel")
	step("shippedAt", in.ShippedAt)
	v.Check(utf8.RuneCountInString(in.Carrier) <= MaxCarrier, "carrier", CodeTooLong, fmt.Sprintf("at most %d characters", MaxCarrier))
	v.Check(utf8.RuneCountInString(in.TrackingNumber) <= MaxTracking, "trackingNumber", CodeTooLong, fmt.Sprintf("at most %d characters", MaxTracking))
	if !in.DeliveredAt.IsZero() && shipped != units {
		v.Add(errs.Conflict("deliveredAt", CodeNotFulfilled, "only an order whose every unit shipped is delivered"))
	}
	step("deliveredAt", in.DeliveredAt)

	switch {
	case !in.CompletedAt.IsZero() && !in.CancelledAt.IsZero():
		v.Add(errs.Invalid("cancelledAt", CodeInvalidStatus, "an order is completed or cancelled, not both"))
	case !in.CompletedAt.IsZero():
		if shipped != units {
			v.Add(errs.Conflict("completedAt", CodeNotFulfilled, "ship every unit first"))
		}
		step("completedAt", in.CompletedAt)
	case !in.CancelledAt.IsZero():
		if shipped > 0 {
			v.Add(errs.Conflict("cancelledAt", CodeAlreadyShipped, "an order of which something shipped is not cancelled"))
		}
		if !in.PaidAt.IsZero() {
			v.Add(errs.Conflict("cancelledAt", CodePaymentNotPending, "a paid order is refunded before it is cancelled"))
		}
		v.Check(strings.TrimSpace(in.CancelReason) != "", "cancelReason", transition.CodeReasonRequired, "say why the order was cancelled")
		v.Check(utf8.RuneCountInString(in.CancelReason) <= MaxReason, "cancelReason", CodeTooLong, fmt.Sprintf("at most %d characters", MaxReason))
		step("cancelledAt", in.CancelledAt)
	default:
		if in.PaidAt.IsZero() && !in.PlacedAt.IsZero() && !in.PlacedAt.Add(deadline).After(now) {
			v.Add(errs.Invalid("placedAt", CodeInvalidDateRange,
				"an open unpaid order is within its payment deadline; older ones are paid or cancelled"))
		}
	}
	return v.Err()
}

// buildSeeded turns a checked SeedOrder into the rows InsertSeeded writes.
func buildSeeded(in *SeedOrder, seq int64, number string, deadline, lead time.Duration, sub authz.Subject) (seeded, error) {
	at := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	placed := at(in.PlacedAt)
	t := in.Place.Totals
	o := &Order{
		ID: id.New("ord"), Seq: seq, Number: number, Email: in.Place.Email, Currency: in.Place.Currency,
		Status: Open, PaymentStatus: PaymentPending, FulfillmentStatus: Unfulfilled,
		ShippingAddress: in.Place.ShippingAddress, BillingAddress: in.Place.BillingAddress,
		ShippingMethodID: in.Place.ShippingMethodID, ShippingMethodName: in.Place.ShippingMethodName,
		SubtotalAmount: t.Subtotal.Amount(), DiscountAmount: t.DiscountTotal.Amount(),
		ShippingAmount: t.Shipping.Amount(), TaxAmount: t.Tax.Amount(), TotalAmount: t.Total.Amount(),
		TaxIncluded: t.TaxIncluded, Discounts: t.Discounts,
		PaymentDeadline: placed.Add(deadline), RemindAt: placed.Add(deadline - lead),
		CartID: in.Place.CartID, CreatedAt: placed, UpdatedAt: placed,
	}
	if o.Discounts == nil {
		o.Discounts = []pricing.Adjustment{}
	}
	if in.Place.CustomerID != "" {
		o.CustomerID = &in.Place.CustomerID
	} else {
		// Nobody holds the token of a seeded guest order; the hash still
		// has to be unique.
		token, err := newAccessToken()
		if err != nil {
			return seeded{}, err
		}
		o.AccessTokenHash = hashToken(token)
	}
	r := seeded{order: o, lines: make([]*Line, len(in.Place.Lines))}
	for i, l := range in.Place.Lines {
		r.lines[i] = &Line{
			ID: id.New("oli"), OrderID: o.ID, Position: i,
			VariantID: l.VariantID, ProductID: l.ProductID, SKU: l.SKU,
			ProductTitle: l.ProductTitle, VariantTitle: l.VariantTitle, WeightGrams: l.WeightGrams,
			Quantity: l.Quantity, UnitPriceAmount: l.UnitPrice.Amount(), SubtotalAmount: l.Subtotal.Amount(),
			DiscountAmount: l.Discount.Amount(), TaxAmount: l.Tax.Amount(), TotalAmount: l.Total.Amount(),
		}
	}
	move := func(machine, from, to string, when time.Time, reason string) {
		r.timeline = append(r.timeline, &TimelineEntry{
			ID: id.New(transition.TimelineIDPrefix), OrderID: o.ID, Machine: machine, FromState: from, ToState: to,
			ActorKind: string(sub.Kind), Actor: nullable(sub.ID), Reason: nullable(reason),
			CreatedAt: when, Visibility: VisibleToBuyer,
		})
		o.UpdatedAt = when
	}
	move(MachineStatus, "", string(Open), placed, "")
	if !in.PaidAt.IsZero() {
		o.PaymentStatus, o.PaymentMethod = PaymentPaid, strings.TrimSpace(in.PaymentMethod)
		move(MachinePayment, string(PaymentPending), string(PaymentPaid), at(in.PaidAt), "")
	}
	if !in.ShippedAt.IsZero() {
		when := at(in.ShippedAt)
		sh := &Shipment{ID: id.New("shp"), OrderID: o.ID, Carrier: strings.TrimSpace(in.Carrier),
			TrackingNumber: strings.TrimSpace(in.TrackingNumber), CreatedBy: actorOf(sub), CreatedAt: when}
		next := Fulfilled
		for i, q := range in.Shipped {
			r.lines[i].QuantityShipped = q
			if q > 0 {
				sh.Lines = append(sh.Lines, &ShipmentLine{ShipmentID: sh.ID, OrderLineID: r.lines[i].ID, Quantity: q})
			}
			if q < r.lines[i].Quantity {
				next = PartiallyFulfilled
			}
		}
		r.shipment = sh
		o.FulfillmentStatus = next
		move(MachineFulfillment, string(Unfulfilled), string(next), when, "")
	}
	if !in.DeliveredAt.IsZero() {
		when := at(in.DeliveredAt)
		r.shipment.DeliveredAt = &when
		o.FulfillmentStatus = Delivered
		move(MachineFulfillment, string(Fulfilled), string(Delivered), when, "")
	}
	switch {
	case !in.CompletedAt.IsZero():
		when := at(in.CompletedAt)
		o.Status, o.CompletedAt = Completed, &when
		move(MachineStatus, string(Open), string(Completed), when, "")
	case !in.CancelledAt.IsZero():
		when := at(in.CancelledAt)
		o.Status, o.CancelledAt = Cancelled, &when
		move(MachineStatus, string(Open), string(Cancelled), when, strings.TrimSpace(in.CancelReason))
	default:
		for _, l := range r.lines {
			if q := l.Unshipped(); q > 0 {
				r.unshipped = append(r.unshipped, catalog.ReservationLine{VariantID: l.VariantID, Quantity: q})
			}
		}
	}
	return r, nil
}

// actorOf names a subject as shipments record their creator.
func actorOf(sub authz.Subject) string {
	if sub.ID != "" {
		return sub.ID
	}
	return string(sub.Kind)
}

// TakeSeqs takes n consecutive order numbers and returns the first: on
// SQLite in one UPDATE of the counter row; on PostgreSQL as n nextval of
// the order_numbers SEQUENCE in one statement, which checkouts running
// meanwhile may interleave with: a run that is not consecutive is left
// as a gap and taken again (seedTries times at most).
func (s *orderStore) TakeSeqs(ctx context.Context, n int64) (int64, error) {
	if s.db.Dialect != store.Postgres {
		var first int64
		err := s.db.Conn(ctx).NewRaw("UPDATE order_sequences SET next = next + ? WHERE name = ? RETURNING next - ?", n, sequenceName, n).Scan(ctx, &first)
		if err != nil {
			return 0, fmt.Errorf("take order numbers: %w", err)
		}
		return first, nil
	}
	for range seedTries {
		var lo, hi int64
		err := s.db.Conn(ctx).NewRaw("SELECT min(seq), max(seq) FROM (SELECT nextval('"+pgSequence+"') AS seq FROM generate_series(1, ?)) AS t", n).
			Scan(ctx, &lo, &hi)
		if err != nil {
			return 0, fmt.Errorf("take order numbers: %w", err)
		}
		if hi-lo == n-1 {
			return lo, nil
		}
	}
	return 0, fmt.Errorf("take order numbers: checkouts took numbers among %d in a row %d times; seed when the shop is quieter", n, seedTries)
}

// seedTries is how many runs of numbers TakeSeqs takes on PostgreSQL
// before it gives up on a consecutive one.
const seedTries = 5

// NextSeqValue reads the next order number the sequence will hand out
// (on PostgreSQL, as no session has taken it yet).
func (s *orderStore) NextSeqValue(ctx context.Context) (int64, error) {
	q := "SELECT next FROM order_sequences WHERE name = '" + sequenceName + "'"
	if s.db.Dialect == store.Postgres {
		q = "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM " + pgSequence
	}
	var next int64
	if err := s.db.Conn(ctx).NewRaw(q).Scan(ctx, &next); err != nil {
		return 0, fmt.Errorf("read order sequence: %w", err)
	}
	return next, nil
}

// InsertSeeded writes seeded orders with their lines, shipments and
// timelines, a few hundred rows per statement.
func (s *orderStore) InsertSeeded(ctx context.Context, rows []seeded) error {
	var (
		orders   = make([]*orderRow, 0, len(rows))
		lines    []*Line
		ships    []*Shipment
		shipLns  []*ShipmentLine
		timeline []*TimelineEntry
	)
	for _, r := range rows {
		orders = append(orders, &orderRow{Order: *r.order, EmailLocal: emailLocal(r.order.Email)})
		lines = append(lines, r.lines...)
		if r.shipment != nil {
			ships = append(ships, r.shipment)
			shipLns = append(shipLns, r.shipment.Lines...)
		}
		timeline = append(timeline, r.timeline...)
	}
	conn := s.db.Conn(ctx)
	if err := insertChunks(ctx, conn, orders); err != nil {
		return fmt.Errorf("insert seeded orders: %w", err)
	}
	if err := insertChunks(ctx, conn, lines); err != nil {
		return fmt.Errorf("insert seeded order lines: %w", err)
	}
	if err := insertChunks(ctx, conn, ships); err != nil {
		return fmt.Errorf("insert seeded shipments: %w", err)
	}
	if err := insertChunks(ctx, conn, shipLns); err != nil {
		return fmt.Errorf("insert seeded shipment lines: %w", err)
	}
	if err := insertChunks(ctx, conn, timeline); err != nil {
		return fmt.Errorf("insert seeded order timeline: %w", err)
	}
	return nil
}

// insertChunks inserts rows seedChunk at a time.
func insertChunks[T any](ctx context.Context, conn bun.IDB, rows []*T) error {
	for len(rows) > 0 {
		n := min(len(rows), seedChunk)
		chunk := rows[:n]
		if _, err := conn.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
