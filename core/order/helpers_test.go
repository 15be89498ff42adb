package order_test

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
)

var start = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// The real catalog reservations satisfy the port.
var _ order.StockReserver = (*catalog.Reservations)(nil)

// variant is a variant of the fixture's catalog.
type variant struct{ id, productID, sku string }

// fixture is an order service over a real catalog (stock through
// catalog.Reservations), real shop settings and the real Casbin policy.
type fixture struct {
	db        *store.DB
	svc       *order.Service
	out       *eventstest.Outbox
	shop      *shop.Service
	clock     *clock.Fake
	customers *fakeCustomers
	catalog   *catalog.Service
	// tea has 10 units on hand, cup 5.
	tea, cup variant
	// tracked are the variants whose stock state reports.
	tracked []variant
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	f := &fixture{db: db, out: &eventstest.Outbox{}, clock: clock.NewFake(start), customers: &fakeCustomers{m: map[string]fakeCustomer{}}}
	f.shop, err = shop.NewService(db, shop.Options{Authz: enf, Outbox: &eventstest.Outbox{}, Clock: f.clock, CacheFor: -1, DefaultCurrency: money.CNY})
	if err != nil {
		t.Fatal(err)
	}
	f.catalog = catalogtest.NewService(db)
	f.tea = f.variant(t, "Oolong Tea", "TEA-1", 10)
	f.cup = f.variant(t, "Tea Cup", "CUP-1", 5)
	f.svc, err = order.NewService(db, order.Options{
		Authz: enf, Outbox: f.out, Stock: catalog.NewReservations(db, catalog.ReservationsOptions{Clock: f.clock}),
		Settings: f.shop, Customers: f.customers, Clock: f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// variant creates a product with one variant and stock on hand.
func (f *fixture) variant(t *testing.T, title, sku string, stock int64) variant {
	t.Helper()
	cat := f.catalog
	p, err := cat.CreateProduct(catalogtest.Staff(), catalog.CreateProductInput{
		Title: title, Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: sku, InventoryQuantity: stock,
			Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "10.00"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := cat.VariantsByProductIDs(catalogtest.Staff(), []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	v := variant{id: vm[p.ID][0].ID, productID: p.ID, sku: sku}
	f.tracked = append(f.tracked, v)
	return v
}

// fakeCustomers stands in for the account service behind the Customers
// port.
type fakeCustomers struct {
	mu sync.Mutex
	m  map[string]fakeCustomer
}

type fakeCustomer struct {
	email    string
	verified bool
}

func (c *fakeCustomers) VerifiedEmail(_ context.Context, id string) (string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fc, ok := c.m[id]
	if !ok {
		return "", false, errs.NotFound("CUSTOMER_NOT_FOUND", "no such customer")
	}
	return fc.email, fc.verified, nil
}

// addCustomer creates a buyer account row (orders reference customers)
// and tells the fake port about it.
func (f *fixture) addCustomer(t *testing.T, id, email string, verified bool) {
	t.Helper()
	if _, err := f.db.NewRaw("INSERT INTO customers (id, email, created_at, updated_at) VALUES (?, ?, ?, ?)",
		id, email, start, start).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.customers.mu.Lock()
	f.customers.m[id] = fakeCustomer{email: email, verified: verified}
	f.customers.mu.Unlock()
}

// The callers of the tests.
func as(kind authz.SubjectKind, id string, roles ...string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: kind, ID: id, Roles: roles, Store: authz.DefaultStore})
}

func staff(role string) context.Context { return as(authz.KindStaff, "stf_"+role, role) }

func buyer(id string) context.Context { return as(authz.KindCustomer, id, authz.RoleCustomer) }

func guest() context.Context {
	return authz.WithSubject(context.Background(), authz.AnonymousSubject())
}

func system() context.Context {
	return authz.WithSubject(context.Background(), authz.SystemSubject("test"))
}

// line is one line of a test checkout: qty units of v at unit minor units.
type line struct {
	v    variant
	qty  int64
	unit int64
}

var testAddress = order.Address{FirstName: "Lin", LastName: "Wei", Line1: "1 Tea Road", City: "Hangzhou", PostalCode: "310000", CountryCode: "CN"}

// input builds what a cart would hand Place: tax-inclusive prices at 6%
// per line, 10.00 shipping.
func (f *fixture) input(cartID, customerID, email string, lines ...line) order.PlaceInput {
	cur := money.CNY
	in := order.PlaceInput{CartID: cartID, CustomerID: customerID, Email: email, Currency: cur,
		ShippingAddress: testAddress, BillingAddress: testAddress, ShippingMethodID: "shm_1", ShippingMethodName: "Courier"}
	var sub, tax int64
	for _, l := range lines {
		st := l.unit * l.qty
		lt := st * 6 / 106
		in.Lines = append(in.Lines, order.PlaceLine{VariantID: l.v.id, ProductID: l.v.productID, SKU: l.v.sku,
			ProductTitle: "Product " + l.v.sku, VariantTitle: "Default", WeightGrams: 100, Quantity: l.qty,
			UnitPrice: money.New(l.unit, cur), Subtotal: money.New(st, cur), Discount: money.Zero(cur),
			Tax: money.New(lt, cur), Total: money.New(st, cur)})
		sub += st
		tax += lt
	}
	in.Totals = pricing.Totals{Subtotal: money.New(sub, cur), DiscountTotal: money.Zero(cur), Shipping: money.New(1000, cur),
		Tax: money.New(tax, cur), TaxIncluded: true, TaxName: "VAT", TaxBasisPoints: 600, Total: money.New(sub+1000, cur)}
	return in
}

// place places in as the buyer in ctx, moving the clock a second first
// so that orders sort by creation.
func (f *fixture) place(t *testing.T, ctx context.Context, in order.PlaceInput) *order.Placed {
	t.Helper()
	f.clock.Advance(time.Second)
	p, err := f.svc.Place(ctx, in)
	if err != nil {
		t.Fatalf("place %s: %v", in.CartID, err)
	}
	return p
}

// level is a variant's stock as [on hand, reserved].
func (f *fixture) level(t *testing.T, v variant) [2]int64 {
	t.Helper()
	var l catalog.InventoryLevel
	if err := f.db.NewSelect().Model(&l).Where("variant_id = ?", v.id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return [2]int64{l.OnHand, l.Reserved}
}

// count returns the number of rows of table matching where.
func (f *fixture) count(t *testing.T, table, where string, args ...any) int {
	t.Helper()
	q := f.db.NewSelect().Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	n, err := q.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// setState puts an order's dimension in a state directly, to test moves
// from every state.
func (f *fixture) setState(t *testing.T, orderID, column, state string) {
	t.Helper()
	if _, err := f.db.NewUpdate().Table("orders").Set("? = ?", bun.Ident(column), state).Where("id = ?", orderID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// state is everything an operation might change on an order: its row's
// states and stamps, its timeline, shipments, notes and lines, the stock
// of the fixture's variants and the events recorded.
type state struct {
	Status, Payment, Fulfillment string
	UpdatedAt                    time.Time
	Cancelled, Completed         bool
	Timeline, Shipments, Notes   int
	Shipped                      []int64
	// Stock is [on hand, reserved] by SKU.
	Stock    map[string][2]int64
	Events   int
	Sequence int64
}

func (f *fixture) state(t *testing.T, orderID string) state {
	t.Helper()
	ctx := context.Background()
	var o order.Order
	if err := f.db.NewSelect().Model(&o).Where("o.id = ?", orderID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var shipped []int64
	if err := f.db.NewSelect().Table("order_lines").Column("quantity_shipped").Where("order_id = ?", orderID).OrderExpr("position").Scan(ctx, &shipped); err != nil {
		t.Fatal(err)
	}
	// The next order number: the counter row on SQLite, the sequence on
	// PostgreSQL (ADR 0010).
	next := f.db.NewSelect().Table("order_sequences").Column("next")
	if f.db.Dialect == store.Postgres {
		next = f.db.NewSelect().ColumnExpr("CASE WHEN is_called THEN last_value + 1 ELSE last_value END").Table("order_numbers")
	}
	var seq int64
	if err := next.Scan(ctx, &seq); err != nil {
		t.Fatal(err)
	}
	return state{
		Status: string(o.Status), Payment: string(o.PaymentStatus), Fulfillment: string(o.FulfillmentStatus),
		UpdatedAt: o.UpdatedAt.UTC(), Cancelled: o.CancelledAt != nil, Completed: o.CompletedAt != nil,
		Timeline: f.count(t, "order_timeline", "order_id = ?", orderID), Shipments: f.count(t, "order_shipments", "order_id = ?", orderID),
		Notes: f.count(t, "order_notes", "order_id = ?", orderID), Shipped: shipped,
		Stock: f.stock(t), Events: len(f.out.Events()), Sequence: seq,
	}
}

// stock is the stock of every tracked variant, by SKU.
func (f *fixture) stock(t *testing.T) map[string][2]int64 {
	t.Helper()
	out := map[string][2]int64{}
	for _, v := range f.tracked {
		out[v.sku] = f.level(t, v)
	}
	return out
}

// codeOf returns the code of a single domain error, "" for nil, and the
// error text for anything else.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	if all := errs.All(err); len(all) == 1 {
		return all[0].Code
	}
	return err.Error()
}

// problems flattens a domain error into "field CODE" lines, sorted.
func problems(err error) []string {
	var out []string
	for _, e := range errs.All(err) {
		out = append(out, strings.Join(e.Field, ".")+" "+e.Code)
	}
	sort.Strings(out)
	return out
}
