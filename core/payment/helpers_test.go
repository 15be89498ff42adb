package payment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/testkit/invariant"
)

var start = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// shopURL is the public URL of the tests' shop: return URLs are on it.
const shopURL = "https://shop.test"

// fixture is a payment service over a real order service, catalog, shop
// settings, outbox, idempotency keys and Casbin policy, with gateways
// that tests choose (fakes, or the real testpay plugin).
type fixture struct {
	db       *store.DB
	svc      *payment.Service
	orders   *order.Service
	shop     *shop.Service
	clock    *clock.Fake
	gateways *gatewaySet
	variant  catalog.Variant
	product  string
	n        atomic.Int64
}

func newFixture(t *testing.T, db *store.DB, gws ...payment.Gateway) *fixture {
	t.Helper()
	return newFixtureWith(t, db, nil, gws...)
}

// newFixtureWith uses port as the gateways when it is not nil.
func newFixtureWith(t *testing.T, db *store.DB, port payment.Gateways, gws ...payment.Gateway) *fixture {
	t.Helper()
	ctx := context.Background()
	enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	f := &fixture{db: db, clock: clock.NewFake(start), gateways: &gatewaySet{m: map[string]payment.Gateway{}}}
	for _, g := range gws {
		f.gateways.m[g.ID()] = g
	}
	outbox := events.NewOutbox(db)
	f.shop, err = shop.NewService(db, shop.Options{Authz: enf, Outbox: outbox, Clock: f.clock, CacheFor: -1, DefaultCurrency: money.CNY})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.NewService(db)
	p, err := cat.CreateProduct(catalogtest.Staff(), catalog.CreateProductInput{
		Title: "Oolong", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "TEA-1", InventoryQuantity: 100000,
			Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "10.00"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := cat.VariantsByProductIDs(catalogtest.Staff(), []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.variant, f.product = vm[p.ID][0], p.ID
	f.orders, err = order.NewService(db, order.Options{
		Authz: enf, Outbox: outbox, Stock: catalog.NewReservations(db, catalog.ReservationsOptions{Clock: f.clock}),
		Settings: f.shop, Customers: noCustomers{}, Clock: f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := idempotency.NewKeys(db, idempotency.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	var gateways payment.Gateways = f.gateways
	if port != nil {
		gateways = port
	}
	f.svc, err = payment.NewService(db, payment.Options{Authz: enf, Outbox: outbox, Orders: app.PaymentOrders{Orders: f.orders},
		Gateways: gateways, Settings: f.shop, Keys: keys, Clock: f.clock, PublicURL: shopURL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.orders.UsePaymentCloser(app.PaymentCloser(f.svc))
	t.Cleanup(func() {
		t.Helper()
		invariant.Require(t, db)
	})
	return f
}

type noCustomers struct{}

func (noCustomers) VerifiedEmail(context.Context, string) (string, bool, error) {
	return "", false, errs.NotFound("CUSTOMER_NOT_FOUND", "no such customer")
}

// gatewaySet is the Gateways port over a map.
type gatewaySet struct {
	mu sync.Mutex
	m  map[string]payment.Gateway
}

func (g *gatewaySet) Gateway(_ context.Context, id string) (payment.Gateway, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gw, ok := g.m[id]
	if !ok {
		return nil, errs.NotFound("PLUGIN_NOT_FOUND", "no plugin "+id)
	}
	return gw, nil
}

// InstalledGateway is Gateway: the set has no disabled gateways
// (withDisabled adds one).
func (g *gatewaySet) InstalledGateway(ctx context.Context, id string) (payment.Gateway, error) {
	return g.Gateway(ctx, id)
}

func (g *gatewaySet) Gateways(context.Context) ([]payment.Gateway, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []payment.Gateway
	for _, gw := range g.m {
		out = append(out, gw)
	}
	return out, nil
}

// The callers.
func as(kind authz.SubjectKind, id string, roles ...string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: kind, ID: id, Roles: roles, Store: authz.DefaultStore})
}

func staff(role string) context.Context { return as(authz.KindStaff, "stf_"+role, role) }

func guest() context.Context {
	return authz.WithSubject(context.Background(), authz.AnonymousSubject())
}

func system() context.Context {
	return authz.WithSubject(context.Background(), authz.SystemSubject("test"))
}

// placed is a guest's order and its access token.
type placed struct {
	id, token string
	total     int64
}

// place places a guest order of qty units at 10.00 plus 10.00 shipping.
func (f *fixture) place(t *testing.T, qty int64) placed {
	t.Helper()
	return f.placeFor(t, qty, "")
}

// placeFor places an order of qty units as place does, a signed-in
// buyer's when customerID is not empty, its input changed by edit.
func (f *fixture) placeFor(t *testing.T, qty int64, customerID string, edit ...func(*order.PlaceInput)) placed {
	t.Helper()
	f.clock.Advance(time.Second)
	n := f.n.Add(1)
	cur := money.CNY
	addr := order.Address{FirstName: "Lin", LastName: "Wei", Line1: "1 Tea Road", City: "Hangzhou", PostalCode: "310000", CountryCode: "CN"}
	st := 1000 * qty
	in := order.PlaceInput{CartID: fmt.Sprintf("crt_%d", n), Email: "lin@example.com", Currency: cur,
		ShippingAddress: addr, BillingAddress: addr, ShippingMethodID: "shm_1", ShippingMethodName: "Courier",
		Lines: []order.PlaceLine{{VariantID: f.variant.ID, ProductID: f.product, SKU: "TEA-1", ProductTitle: "Oolong",
			VariantTitle: "Default", WeightGrams: 100, Quantity: qty, UnitPrice: money.New(1000, cur), Subtotal: money.New(st, cur),
			Discount: money.Zero(cur), Tax: money.Zero(cur), Total: money.New(st, cur)}},
		Totals: pricing.Totals{Subtotal: money.New(st, cur), DiscountTotal: money.Zero(cur), Shipping: money.New(1000, cur),
			Tax: money.Zero(cur), TaxIncluded: true, Total: money.New(st+1000, cur)},
	}
	for _, e := range edit {
		e(&in)
	}
	ctx := guest()
	if customerID != "" {
		// The buyer's account, once.
		if _, err := f.db.NewRaw("INSERT INTO customers (id, email, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			customerID, customerID+"@example.com", start, start).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		in.CustomerID = customerID
		ctx = as(authz.KindCustomer, customerID, authz.RoleCustomer)
	}
	p, err := f.orders.Place(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return placed{id: p.Order.ID, token: p.AccessToken, total: in.Totals.Total.Amount()}
}

// orderStatus reads an order's status and payment status.
func (f *fixture) orderStatus(t *testing.T, id string) (string, string) {
	t.Helper()
	d, err := f.orders.Get(system(), id)
	if err != nil {
		t.Fatal(err)
	}
	return string(d.Order.Status), string(d.Order.PaymentStatus)
}

// count counts rows.
func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) outboxCount(t *testing.T, subject string) int {
	return f.count(t, "SELECT COUNT(*) FROM outbox_events WHERE subject = ?", subject)
}

func (f *fixture) attempt(t *testing.T, id string) *payment.Attempt {
	t.Helper()
	a, err := f.svc.Attempt(staff("finance"), id, "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// deadlineCloser is the order deadline closer as core/app wires it: it
// asks the payments (BeforeExpire) before cancelling an overdue order.
func (f *fixture) deadlineCloser(t *testing.T) *order.Scheduler {
	t.Helper()
	sc, err := order.NewScheduler(f.orders, order.SchedulerOptions{BeforeExpire: order.ExpiryHookFunc(func(ctx context.Context, o *order.Order) (order.ExpiryVerdict, error) {
		v, err := f.svc.BeforeExpire(ctx, o.ID)
		return map[payment.Verdict]order.ExpiryVerdict{payment.VerdictExpire: order.ExpireNow, payment.VerdictPaid: order.KeepPaid, payment.VerdictPending: order.KeepPending}[v], err
	}), Jitter: -1})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func (f *fixture) amounts(t *testing.T, orderID string) payment.Amounts {
	t.Helper()
	m, err := f.svc.AmountsOf(staff("finance"), []string{orderID})
	if err != nil {
		t.Fatal(err)
	}
	return m[orderID]
}

// fakeGateway is an in-memory gateway with faults to inject. Its
// notifications are JSON bodies {"sig":"ok","events":[...]}; any other
// signature is refused.
type fakeGateway struct {
	id   string
	caps []string

	mu sync.Mutex
	// create is what CreatePayment answers (StatusRequiresAction with a
	// redirect when empty); createErr fails it instead.
	create    payment.Status
	createErr error
	// decline is the decline code of a FAILED create; card_declined when
	// empty.
	decline string
	// state is the gateway's truth per attempt id; getErr fails
	// GetPayment, cancelErr CancelPayment.
	state     map[string]*fakePayment
	getErr    error
	cancelErr error
	refunds   map[string]int64 // refund id -> amount refunded
	refundErr error
	calls     map[string]int
	// lastCreate is the last CreatePayment request.
	lastCreate payment.CreateRequest
	// duringCreate, when set, runs inside CreatePayment before it
	// answers (a notification quicker than the answer).
	duringCreate func(req payment.CreateRequest)
	// duringCancel, when set, runs inside CancelPayment before it
	// answers (a buyer acting while the order's payments are closed).
	duringCancel func(req payment.CancelRequest)
}

type fakePayment struct {
	status             payment.Status
	amount             money.Money
	captured, refunded int64
}

func newFake(id string, caps ...string) *fakeGateway {
	if len(caps) == 0 {
		caps = []string{payment.CapActionRedirect, payment.CapActionNone, payment.CapCancel, payment.CapRefund, payment.CapCaptureManual, payment.CapWebhook}
	}
	return &fakeGateway{id: id, caps: caps, state: map[string]*fakePayment{}, refunds: map[string]int64{}, calls: map[string]int{}}
}

func (g *fakeGateway) ID() string { return g.id }

func (g *fakeGateway) Supports(c string) bool {
	for _, x := range g.caps {
		if x == c {
			return true
		}
	}
	return false
}

func (g *fakeGateway) set(fn func(g *fakeGateway)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g)
}

// truth sets the gateway's state of an attempt.
func (g *fakeGateway) truth(attemptID string, st payment.Status, amount money.Money) {
	g.set(func(g *fakeGateway) {
		p := g.state[attemptID]
		if p == nil {
			p = &fakePayment{amount: amount}
			g.state[attemptID] = p
		}
		p.status = st
		if st == payment.StatusSucceeded {
			p.captured = amount.Amount()
		}
	})
}

func (g *fakeGateway) CreatePayment(_ context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	g.mu.Lock()
	during := g.duringCreate
	g.mu.Unlock()
	if during != nil {
		during(req)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls["create"]++
	g.lastCreate = req
	if p, ok := g.state[req.AttemptID]; ok && req.IdempotencyKey == req.AttemptID {
		return payment.CreateResult{Status: p.status, GatewayRef: "ref_" + req.AttemptID}, nil
	}
	st := g.create
	if st == "" {
		st = payment.StatusRequiresAction
	}
	p := &fakePayment{status: st, amount: req.Amount}
	if st == payment.StatusSucceeded {
		p.captured = req.Amount.Amount()
	}
	g.state[req.AttemptID] = p
	if g.createErr != nil {
		return payment.CreateResult{}, g.createErr
	}
	res := payment.CreateResult{Status: st, GatewayRef: "ref_" + req.AttemptID}
	if st == payment.StatusRequiresAction {
		res.Action = payment.Action{Type: payment.ActionRedirect, URL: "https://pay.test/" + req.AttemptID}
		if slices.Contains(g.caps, payment.CapActionInstructions) { // a bank transfer
			res.Status, res.Action = payment.StatusPending, payment.Action{Type: payment.ActionInstructions, Instructions: "IBAN DE89 3704 0044 0532 0130 00"}
		}
	}
	if st == payment.StatusFailed {
		res.DeclineCode, res.BuyerMessage = "card_declined", "Your card was declined."
		if g.decline != "" {
			res.DeclineCode = g.decline
		}
	}
	return res, nil
}

func (g *fakeGateway) GetPayment(_ context.Context, req payment.GetRequest) (payment.GatewayPayment, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls["get"]++
	if g.getErr != nil {
		return payment.GatewayPayment{}, g.getErr
	}
	p, ok := g.state[req.AttemptID]
	if !ok {
		return payment.GatewayPayment{Status: payment.StatusNotFound}, nil
	}
	return payment.GatewayPayment{Status: p.status, GatewayRef: "ref_" + req.AttemptID, Amount: p.amount, Captured: p.captured, Refunded: p.refunded}, nil
}

func (g *fakeGateway) CapturePayment(_ context.Context, req payment.CaptureRequest) (payment.CaptureResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls["capture"]++
	p := g.state[req.AttemptID]
	if p == nil || (p.status != payment.StatusAuthorized && p.status != payment.StatusSucceeded) {
		return payment.CaptureResult{Status: payment.StatusFailed, DeclineCode: "invalid_state"}, nil
	}
	if p.status == payment.StatusAuthorized {
		p.status, p.captured = payment.StatusSucceeded, req.Amount.Amount()
	}
	return payment.CaptureResult{Status: payment.StatusSucceeded, Captured: p.captured}, nil
}

func (g *fakeGateway) CancelPayment(_ context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	g.mu.Lock()
	during := g.duringCancel
	g.mu.Unlock()
	if during != nil {
		during(req)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls["cancel"]++
	if g.cancelErr != nil {
		return payment.CancelResult{}, g.cancelErr
	}
	p := g.state[req.AttemptID]
	switch {
	case p == nil:
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusNotFound}, nil
	case p.status == payment.StatusSucceeded:
		return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: p.status}, nil
	}
	p.status = payment.StatusCanceled
	return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: p.status}, nil
}

func (g *fakeGateway) Refund(_ context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls["refund"]++
	if g.refundErr != nil {
		return payment.RefundResult{}, g.refundErr
	}
	if amt, ok := g.refunds[req.RefundID]; ok {
		return payment.RefundResult{Status: payment.RefundSucceeded, Amount: money.New(amt, req.Amount.Currency()), GatewayRefundRef: "rr_" + req.RefundID}, nil
	}
	p := g.state[req.AttemptID]
	if p == nil || req.Amount.Amount() > p.captured-p.refunded {
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: "amount_exceeds_captured"}, nil
	}
	p.refunded += req.Amount.Amount()
	g.refunds[req.RefundID] = req.Amount.Amount()
	return payment.RefundResult{Status: payment.RefundSucceeded, Amount: req.Amount, GatewayRefundRef: "rr_" + req.RefundID}, nil
}

func (g *fakeGateway) GetRefund(_ context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if amt, ok := g.refunds[req.RefundID]; ok {
		return payment.RefundResult{Status: payment.RefundSucceeded, Amount: money.New(amt, money.CNY), GatewayRefundRef: "rr_" + req.RefundID}, nil
	}
	return payment.RefundResult{Status: payment.RefundNotFound}, nil
}

// notification is the fake's webhook body.
type notification struct {
	Sig    string                 `json:"sig"`
	Events []payment.GatewayEvent `json:"events"`
}

func (g *fakeGateway) HandleWebhook(_ context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	var n notification
	if err := json.Unmarshal(req.Body, &n); err != nil {
		return payment.WebhookResult{Rejected: payment.RejectMalformed, Response: payment.WebhookResponse{Status: http.StatusBadRequest}}, nil
	}
	if n.Sig != "ok" {
		return payment.WebhookResult{Rejected: payment.RejectBadSignature, Response: payment.WebhookResponse{Status: http.StatusUnauthorized}}, nil
	}
	return payment.WebhookResult{Events: n.Events, Response: payment.WebhookResponse{Status: http.StatusOK, Body: []byte("success")}}, nil
}

func (g *fakeGateway) ListTransactions(context.Context, payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	return payment.TransactionPage{}, payment.ErrNotSupported
}

// body encodes a notification of the fake.
func body(t testing.TB, sig string, evs ...payment.GatewayEvent) []byte {
	t.Helper()
	b, err := json.Marshal(notification{Sig: sig, Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
