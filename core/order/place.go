package order

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/kit/peer"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// Limits of a placement. The cart enforces tighter ones of its own; these
// keep a bug in a caller from writing absurd rows.
const (
	// MaxLines is the most lines an order holds.
	MaxLines = 250
	// MaxEmail is the longest email address, in bytes.
	MaxEmail = 320
)

// Place turns a priced cart into an order waiting for payment, in the
// transaction carried by ctx (the cart's checkout, ADR 0008): it takes the
// next order number, writes the order with its snapshot of lines, prices,
// addresses and totals, reserves the stock of every line (all or nothing),
// sets the payment deadline and reminder time from the shop's settings,
// writes the first timeline row and kassa.order.placed.
//
// Place asks no permission: only the cart calls it, in-process, after it
// authorized the buyer's checkout (ADR 0006), and it trusts the prices
// the cart computed. It still refuses input no cart could build
// (errs.ErrInvalid, with paths relative to in). A variant short of stock
// fails with *catalog.InsufficientStockError (INSUFFICIENT_STOCK, its
// field "lines.N.quantity"); a cart that placed an order already with
// CART_ALREADY_PLACED. Whatever fails, Place leaves the caller's
// transaction as it found it (it works under a savepoint): no order or
// reservation is kept, and on SQLite no number (on PostgreSQL a number
// taken before the failure is a gap, ADR 0010). The savepoint is left out, two
// statements fewer, when Place runs its own transaction or the caller
// says it rolls back on failure (RollsBackOnError).
//
// A guest's order gets an access token, returned once in Placed and
// stored hashed: it is how the guest reads (GetByAccessToken) and cancels
// (CancelUnpaid) the order.
func (s *Service) Place(ctx context.Context, in PlaceInput) (*Placed, error) {
	if err := validatePlace(&in); err != nil {
		return nil, err
	}
	var out *Placed
	own := !store.InTx(ctx) // a failure then rolls back Place's own transaction
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		if own || rollsBack(ctx) {
			p, err := s.place(ctx, in)
			out = p
			return err
		}
		return s.store.Savepoint(ctx, "order_place", func() error {
			p, err := s.place(ctx, in)
			out = p
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// holdsTooMany sets o's client network from the request placing it and
// refuses the order when that network or its signed-in buyer already
// holds limit orders awaiting payment: each holds its stock until the
// deadline, and without a limit a script could hold a product's whole
// stock. A loopback or private address is a proxy's, many buyers at once,
// and is not counted (peer.Shared). Checkouts running at once all count
// before any commits and may all pass: the overshoot is bounded by how
// many run at once (ADR 0015).
func (s *Service) holdsTooMany(ctx context.Context, o *Order, limit int64) error {
	if ip := peer.From(ctx).IP; !peer.Shared(ip) {
		o.ClientNetwork = peer.Network(ip)
	}
	// The buyer's own orders, and theirs too when a signed-in buyer
	// completes a guest cart (by its token): the order is then a guest's,
	// but whoever places it is counted.
	customer := ""
	if o.CustomerID != nil {
		customer = *o.CustomerID
	} else if sub := authz.SubjectFrom(ctx); sub.Kind == authz.KindCustomer {
		customer = sub.ID
	}
	if limit <= 0 || (o.ClientNetwork == "" && customer == "") {
		return nil
	}
	byNetwork, byCustomer, err := s.store.UnpaidHeld(ctx, o.ClientNetwork, customer, limit)
	if err != nil {
		return err
	}
	if byNetwork >= limit || byCustomer >= limit {
		return errs.Conflict("", CodeTooManyUnpaidOrders,
			fmt.Sprintf("%d orders are already waiting for payment; pay or cancel one of them first", limit))
	}
	return nil
}

type rollsBackKey struct{}

// RollsBackOnError returns ctx saying that its caller rolls its whole
// transaction back when Place fails (the cart's checkout does): Place
// then takes no savepoint to leave the transaction usable after a
// failure.
func RollsBackOnError(ctx context.Context) context.Context {
	return context.WithValue(ctx, rollsBackKey{}, true)
}

func rollsBack(ctx context.Context) bool {
	v, _ := ctx.Value(rollsBackKey{}).(bool)
	return v
}

// NewID returns a new order id, for PlaceInput.OrderID.
func NewID() string { return id.New("ord") }

// NewAccessToken returns a new guest access token, for
// PlaceInput.AccessToken.
func NewAccessToken() (string, error) { return newAccessToken() }

// PlacedAgain reads back an order Place placed, for a caller answering a
// retry of the request that placed it (the cart's checkout, with the id
// and token it chose): the order as it is now, its lines, and token when
// it is the order's access token (a buyer's order has none). Like Place,
// it asks no permission: the caller authorized the retry, which only the
// first request's caller can make.
func (s *Service) PlacedAgain(ctx context.Context, orderID, token string) (*Placed, error) {
	o, err := s.store.OrderByID(ctx, orderID)
	if err != nil {
		return nil, err
	}
	lines, err := s.store.Lines(ctx, orderID)
	if err != nil {
		return nil, err
	}
	p := &Placed{Order: o, Lines: lines}
	if token != "" && o.AccessTokenHash != "" && hashToken(token) == o.AccessTokenHash {
		p.AccessToken = token
	}
	return p, nil
}

// place writes the order: the reservation, whose stock rows stay locked
// to the caller's commit, then the numbered insert (on PostgreSQL the
// number comes from a SEQUENCE and waits for no other checkout, ADR
// 0010), then one outbox insert of both events (RunBatched), and the
// commit. The caller's idempotency answer is written before Place
// (PlaceInput.AccessToken), so nothing else follows.
func (s *Service) place(ctx context.Context, in PlaceInput) (*Placed, error) {
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	oid := in.OrderID
	if oid == "" {
		oid = NewID()
	}
	deadline := now.Add(set.PaymentDeadline)
	t := in.Totals
	o := &Order{
		ID:    oid,
		Email: in.Email, Currency: in.Currency,
		Status: Open, PaymentStatus: PaymentPending, FulfillmentStatus: Unfulfilled,
		ShippingAddress: in.ShippingAddress, BillingAddress: in.BillingAddress,
		ShippingMethodID: in.ShippingMethodID, ShippingMethodName: in.ShippingMethodName,
		SubtotalAmount: t.Subtotal.Amount(), DiscountAmount: t.DiscountTotal.Amount(),
		ShippingAmount: t.Shipping.Amount(), TaxAmount: t.Tax.Amount(), TotalAmount: t.Total.Amount(),
		TaxIncluded: t.TaxIncluded, TaxName: t.TaxName, TaxBasisPoints: t.TaxBasisPoints, Discounts: t.Discounts,
		PaymentDeadline: deadline, RemindAt: deadline.Add(-set.ReminderLead),
		CartID: in.CartID, CreatedAt: now, UpdatedAt: now,
	}
	if o.Discounts == nil {
		o.Discounts = []pricing.Adjustment{}
	}
	placed := &Placed{Order: o}
	if in.CustomerID != "" {
		o.CustomerID = &in.CustomerID
	} else {
		placed.AccessToken = in.AccessToken
		if placed.AccessToken == "" {
			if placed.AccessToken, err = newAccessToken(); err != nil {
				return nil, err
			}
		}
		o.AccessTokenHash = hashToken(placed.AccessToken)
	}
	lines := make([]*Line, len(in.Lines))
	reserve := make([]catalog.ReservationLine, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = &Line{
			ID: id.New("oli"), OrderID: o.ID, Position: i,
			VariantID: l.VariantID, ProductID: l.ProductID, SKU: l.SKU,
			ProductTitle: l.ProductTitle, VariantTitle: l.VariantTitle, WeightGrams: l.WeightGrams,
			Quantity: l.Quantity, UnitPriceAmount: l.UnitPrice.Amount(), SubtotalAmount: l.Subtotal.Amount(),
			DiscountAmount: l.Discount.Amount(), TaxAmount: l.Tax.Amount(), TotalAmount: l.Total.Amount(),
		}
		reserve[i] = catalog.ReservationLine{VariantID: l.VariantID, Quantity: l.Quantity}
	}
	placed.Lines = lines
	if err := s.holdsTooMany(ctx, o, set.UnpaidOrdersPerBuyer); err != nil {
		return nil, err
	}
	sub := authz.SubjectFrom(ctx)
	var first *TimelineEntry
	// The reservation's kassa.inventory.moved and kassa.order.placed go
	// in one outbox insert when the batch ends, in that order.
	err = transition.RunBatched(ctx, s.db, func(ctx context.Context) error {
		// The reservation's paths (lines.N.quantity) are those of in: its
		// lines are in's, in order. It names the order before its row
		// exists (the stock ledger keeps the id as text).
		if err := s.stock.Reserve(ctx, o.ID, reserve); err != nil {
			return err
		}
		// The timeline row names the event, whose payload needs the
		// number: the event's id is taken first, after the reservation's
		// (the relay publishes in id order).
		eventID := id.New(events.IDPrefix)
		first = &TimelineEntry{
			ID: id.New(transition.TimelineIDPrefix), OrderID: o.ID, Machine: MachineStatus, FromState: "", ToState: string(Open),
			ActorKind: string(sub.Kind), Actor: nullable(sub.ID), EventID: eventID, CreatedAt: now, Visibility: VisibleToBuyer,
		}
		if err := s.store.InsertNumbered(ctx, o, lines, first, set.OrderNumberPrefix); err != nil {
			return err
		}
		ev, err := events.New(SubjectPlaced, PlacedEvent{OrderID: o.ID, Number: o.Number, CustomerID: in.CustomerID,
			Total: t.Total, PaymentDeadline: deadline})
		if err != nil {
			return fmt.Errorf("order: %w", err)
		}
		ev.ID, ev.OccurredAt, ev.Actor = eventID, now, actor(ctx)
		return transition.Emit(ctx, s.outbox, ev)
	})
	if err != nil {
		return nil, err
	}
	placed.Timeline = []*TimelineEntry{first}
	return placed, nil
}

// validatePlace normalizes in (the email is trimmed and lower-cased) and
// refuses what no cart could build.
func validatePlace(in *PlaceInput) error {
	var v errs.Validator
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	v.Check(in.CartID != "", "cartId", CodeRequired, "name the cart being completed")
	v.Check(in.Email != "", "email", CodeRequired, "an order needs an email address")
	v.Check(len(in.Email) <= MaxEmail, "email", CodeTooLong, fmt.Sprintf("at most %d characters", MaxEmail))
	if in.Currency.IsZero() {
		v.Add(errs.Invalid("currency", CodeInvalidCurrency, "an order needs a currency"))
		return v.Err()
	}
	v.Check(len(in.Lines) > 0, "lines", CodeRequired, "an order has at least one line")
	v.Check(len(in.Lines) <= MaxLines, "lines", CodeTooMany, fmt.Sprintf("an order has at most %d lines", MaxLines))
	cur := in.Currency
	same := func(field string, m money.Money) {
		v.Check(m.Currency() == cur, field, CodeInvalidCurrency, "must be in "+cur.Code())
	}
	for i, l := range in.Lines {
		f := "lines." + strconv.Itoa(i)
		v.Check(l.VariantID != "", f+".variantId", CodeRequired, "required")
		v.Check(l.ProductID != "", f+".productId", CodeRequired, "required")
		v.Check(l.ProductTitle != "", f+".productTitle", CodeRequired, "required")
		v.Check(l.Quantity > 0 && l.Quantity <= catalog.MaxQuantity, f+".quantity", CodeInvalidQuantity,
			fmt.Sprintf("must be between 1 and %d", catalog.MaxQuantity))
		same(f+".unitPrice", l.UnitPrice)
		same(f+".subtotal", l.Subtotal)
		same(f+".discount", l.Discount)
		same(f+".tax", l.Tax)
		same(f+".total", l.Total)
		v.Check(!l.Total.IsNegative(), f+".total", CodeInvalidAmount, "a line never costs less than nothing")
	}
	t := in.Totals
	same("totals.subtotal", t.Subtotal)
	same("totals.discountTotal", t.DiscountTotal)
	same("totals.shipping", t.Shipping)
	same("totals.tax", t.Tax)
	same("totals.total", t.Total)
	v.Check(!t.Total.IsNegative(), "totals.total", CodeInvalidAmount, "an order never costs less than nothing")
	return v.Err()
}

// actor names the subject of ctx for events.
func actor(ctx context.Context) string {
	sub := authz.SubjectFrom(ctx)
	if sub.ID != "" {
		return sub.ID
	}
	return string(sub.Kind)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
