package cart_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/tax"
)

// fixture is a shop with a catalog, shipping, tax and settings on a real
// database, the cart service wired to them as core/app wires it, and a
// fake order placer that reserves stock as order.Place does.
type fixture struct {
	db       *store.DB
	svc      *cart.Service
	catalog  *catalog.Service
	shop     *shop.Service
	shipping *shipping.Service
	placer   *fakePlacer
	clock    *clock.Fake
	rates    *shipping.Rates
	taxRates *tax.Rates
	taxes    *tax.Service

	// tea100: CNY 68.00, USD 9.50, JPY 1005; 40 in stock; 120 g.
	// tea250: CNY 148.00 only; 5 in stock; 300 g.
	// mug: a DRAFT. kettle: an archived product.
	tea100, tea250, mug, kettle string
	// standard (CN): 10.00 CNY, free from 200.00; 5.00 USD, free from
	// 50.00; 1000 JPY, free from 20000. express (CN): CNY weight bands
	// up to 500 g 15.00, up to 2000 g 25.00. overseas (US): USD 20.00.
	standard, express, overseas string
}

// fakePlacer stands in for core/order's Service: it reserves the lines'
// stock in the caller's transaction, as Place does, and records what it
// was given. failAfter makes it fail with an InsufficientStockError after
// reserving, as Place fails on the second of two short lines.
type fakePlacer struct {
	res *catalog.Reservations

	mu        sync.Mutex
	calls     []order.PlaceInput
	failAfter bool
	// orders are the orders placed, by id, for PlacedAgain (a rolled-back
	// placement stays: the cart never asks for it).
	orders map[string]*order.Placed
}

// PlacedAgain returns the order placed with orderID, its token if token
// is the order's, as core/order's does.
func (p *fakePlacer) PlacedAgain(ctx context.Context, orderID, token string) (*order.Placed, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	placed, ok := p.orders[orderID]
	if !ok {
		return nil, errs.NotFound("ORDER_NOT_FOUND", "no such order")
	}
	again := &order.Placed{Order: placed.Order, Lines: placed.Lines}
	if token != "" && token == placed.AccessToken {
		again.AccessToken = token
	}
	return again, nil
}

func (p *fakePlacer) Place(ctx context.Context, in order.PlaceInput) (*order.Placed, error) {
	oid := in.OrderID
	if oid == "" {
		oid = id.New("ord")
	}
	lines := make([]catalog.ReservationLine, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = catalog.ReservationLine{VariantID: l.VariantID, Quantity: l.Quantity}
	}
	if err := p.res.Reserve(ctx, oid, lines); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failAfter {
		return nil, &catalog.InsufficientStockError{VariantID: in.Lines[0].VariantID, Requested: 99, Available: 1, Field: "lines.0.quantity"}
	}
	p.calls = append(p.calls, in)
	o := &order.Order{ID: oid, CartID: in.CartID, Email: in.Email, Currency: in.Currency, Status: order.Open,
		SubtotalAmount: in.Totals.Subtotal.Amount(), TotalAmount: in.Totals.Total.Amount(), TaxAmount: in.Totals.Tax.Amount(),
		ShippingAddress: in.ShippingAddress, BillingAddress: in.BillingAddress, Discounts: in.Totals.Discounts}
	placed := &order.Placed{Order: o}
	if in.CustomerID != "" {
		o.CustomerID = &in.CustomerID
	} else {
		placed.AccessToken = in.AccessToken
		if placed.AccessToken == "" {
			placed.AccessToken = "order-token-" + oid
		}
	}
	for i, l := range in.Lines {
		placed.Lines = append(placed.Lines, &order.Line{ID: id.New("orl"), OrderID: oid, Position: i, VariantID: l.VariantID,
			Quantity: l.Quantity, UnitPriceAmount: l.UnitPrice.Amount(), TotalAmount: l.Total.Amount()})
	}
	if p.orders == nil {
		p.orders = map[string]*order.Placed{}
	}
	p.orders[oid] = placed
	return placed, nil
}

func (p *fakePlacer) placed() []order.PlaceInput {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]order.PlaceInput(nil), p.calls...)
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, clock: clock.NewFake(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))}
	ctx := catalogtest.Staff()
	var err error
	f.shop, err = shop.NewService(db, shop.Options{Authz: authz.AllowAll{}, Outbox: &eventstest.Outbox{}, DefaultCurrency: money.CNY, CacheFor: -1})
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(10)
	if _, err := f.shop.Update(ctx, shop.UpdateSettingsInput{Currencies: &[]string{"CNY", "USD", "JPY"}, LineQuantityLimit: &limit}); err != nil {
		t.Fatal(err)
	}

	f.catalog = catalogtest.NewService(db)
	tea, err := f.catalog.CreateProduct(ctx, catalog.CreateProductInput{
		Title: "Oolong Tea", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Weight", Values: []string{"100 g", "250 g"}}},
		Variants: []catalog.VariantInput{
			{SKU: "TEA-100", SelectedOptions: []catalog.SelectedOption{{Name: "Weight", Value: "100 g"}}, WeightGrams: 120, InventoryQuantity: 40,
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "68.00"}, {Currency: "USD", Amount: "9.50"}, {Currency: "JPY", Amount: "1005"}}},
			{SKU: "TEA-250", SelectedOptions: []catalog.SelectedOption{{Name: "Weight", Value: "250 g"}}, WeightGrams: 300, InventoryQuantity: 5,
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "148.00"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mug, err := f.catalog.CreateProduct(ctx, catalog.CreateProductInput{Title: "Enamel Mug",
		Variants: []catalog.VariantInput{{SKU: "MUG", Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "45.00"}}, InventoryQuantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	kettle, err := f.catalog.CreateProduct(ctx, catalog.CreateProductInput{Title: "Old Kettle", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "KETTLE", Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "300.00"}}, InventoryQuantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.catalog.ArchiveProduct(ctx, kettle.ID); err != nil {
		t.Fatal(err)
	}
	vm, err := f.catalog.VariantsByProductIDs(ctx, []string{tea.ID, mug.ID, kettle.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.tea100, f.tea250, f.mug, f.kettle = vm[tea.ID][0].ID, vm[tea.ID][1].ID, vm[mug.ID][0].ID, vm[kettle.ID][0].ID

	// The rates the cart quotes with are the service's, as core/app
	// wires them: a change of a zone is seen at once.
	f.rates = shipping.NewRates(db, shipping.RatesOptions{Clock: f.clock})
	f.shipping, err = shipping.NewService(db, shipping.Options{Authz: authz.AllowAll{}, Rates: f.rates})
	if err != nil {
		t.Fatal(err)
	}
	cn, err := f.shipping.CreateZone(ctx, shipping.ZoneInput{Name: "China", Countries: []string{"CN"}})
	if err != nil {
		t.Fatal(err)
	}
	us, err := f.shipping.CreateZone(ctx, shipping.ZoneInput{Name: "United States", Countries: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	grams := func(g int64) *int64 { return &g }
	for _, m := range []struct {
		dst *string
		in  shipping.MethodInput
	}{
		{&f.standard, shipping.MethodInput{ZoneID: cn.ID, Name: "Standard", Kind: shipping.KindFreeOver, Prices: []shipping.MethodPriceInput{
			{Currency: "CNY", Amount: "10.00", FreeOver: "200.00"},
			{Currency: "USD", Amount: "5.00", FreeOver: "50.00"},
			{Currency: "JPY", Amount: "1000", FreeOver: "20000"},
		}}},
		{&f.express, shipping.MethodInput{ZoneID: cn.ID, Name: "Express", Kind: shipping.KindWeightBands, Prices: []shipping.MethodPriceInput{
			{Currency: "CNY", Bands: []shipping.WeightBandInput{{MaxGrams: grams(500), Amount: "15.00"}, {MaxGrams: grams(2000), Amount: "25.00"}}},
		}}},
		{&f.overseas, shipping.MethodInput{ZoneID: us.ID, Name: "Overseas", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{
			{Currency: "USD", Amount: "20.00"}, {Currency: "CNY", Amount: "140.00"},
		}}},
	} {
		got, err := f.shipping.CreateMethod(ctx, m.in)
		if err != nil {
			t.Fatal(err)
		}
		*m.dst = got.ID
	}
	f.taxRates = tax.NewRates(db, tax.RatesOptions{Clock: f.clock})
	taxes, err := tax.NewService(db, tax.Options{Authz: authz.AllowAll{}, Rates: f.taxRates})
	if err != nil {
		t.Fatal(err)
	}
	f.taxes = taxes
	if _, err := taxes.CreateRate(ctx, tax.RateInput{Country: "CN", Name: "VAT", BasisPoints: 1300}); err != nil {
		t.Fatal(err)
	}

	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	keys, err := idempotency.NewKeys(db, idempotency.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.placer = &fakePlacer{res: catalog.NewReservations(db, catalog.ReservationsOptions{})}
	f.svc, err = cart.NewService(db, cart.Options{
		Authz:    enf,
		Catalog:  catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{}),
		Rates:    f.rates,
		TaxRates: f.taxRates,
		Settings: f.shop,
		Keys:     keys,
		Placer:   f.placer,
		Clock:    f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"cus_alice", "cus_bob", "cus_carol"} {
		if _, err := db.NewRaw("INSERT INTO customers (id, email, created_at, updated_at) VALUES (?, ?, ?, ?)",
			c, strings.TrimPrefix(c, "cus_")+"@example.com", f.clock.Now(), f.clock.Now()).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// guest is a caller nobody signed in as.
func guest() context.Context {
	return authz.WithSubject(context.Background(), authz.AnonymousSubject())
}

// buyer is a signed-in buyer.
func buyer(id string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindCustomer, ID: id,
		Roles: []string{authz.RoleCustomer}, Store: authz.DefaultStore})
}

// support is a staff member without any cart permission.
func support() context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "usr_support",
		Roles: []string{authz.RoleSupport}, Store: authz.DefaultStore})
}

// newGuestCart creates a guest cart in cur and returns its reference.
func (f *fixture) newGuestCart(t *testing.T, cur string) cart.Ref {
	t.Helper()
	c, err := f.svc.Create(guest(), cur)
	if err != nil {
		t.Fatal(err)
	}
	return cart.Ref{Token: c.Token}
}

// ready fills a cart up to checkout: lines, email, a CN address and a
// shipping method.
func (f *fixture) ready(t *testing.T, ctx context.Context, ref cart.Ref, method string, lines ...cart.LineInput) *cart.Cart {
	t.Helper()
	mustCart(t)(f.svc.AddLines(ctx, ref, lines))
	mustCart(t)(f.svc.SetEmail(ctx, ref, "buyer@example.com"))
	mustCart(t)(f.svc.SetShippingAddress(ctx, ref, cnAddress(), nil))
	return mustCart(t)(f.svc.SetShippingMethod(ctx, ref, method))
}

func cnAddress() order.Address {
	return order.Address{FirstName: "Li", LastName: "Wei", Line1: "1 Binhai Road", City: "Shenzhen", Province: "GD", CountryCode: "CN"}
}

func mustCart(t *testing.T) func(*cart.Cart, error) *cart.Cart {
	return func(c *cart.Cart, err error) *cart.Cart {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// problems returns the field and code of every domain error in err, as
// "field code".
func problems(err error) []string {
	var out []string
	for _, e := range errs.All(err) {
		out = append(out, strings.Join(e.Field, ".")+" "+e.Code)
	}
	return out
}

// quantities returns a cart's lines as variant id -> quantity.
func quantities(c *cart.Cart) map[string]int64 {
	out := map[string]int64{}
	for _, l := range c.Lines {
		out[l.VariantID] = l.Quantity
	}
	return out
}
