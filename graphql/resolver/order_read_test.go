package resolver_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
)

// traceKey marks the context of the operation whose statements a
// statementLog records; the app's other work is left out.
type traceKey struct{}

// statementLog records the SQL of the statements run under a context
// carrying traceKey.
type statementLog struct {
	mu   sync.Mutex
	sqls []string
}

func (l *statementLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (l *statementLog) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if ctx.Value(traceKey{}) == nil {
		return
	}
	l.mu.Lock()
	l.sqls = append(l.sqls, e.Query)
	l.mu.Unlock()
}

// take returns the statements recorded since the last call and forgets
// them.
func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sqls
	l.sqls = nil
	return out
}

// detailTables are the tables of an order's detail (its lines, shipments,
// timeline and notes), which a read of the order's own fields must leave
// alone.
var detailTables = []string{"order_lines", "order_shipments", "order_shipment_lines", "order_timeline", "order_notes"}

// readsOrders returns the statements that read the orders table itself.
func readsOrders(sqls []string) []string {
	var out []string
	for _, q := range sqls {
		if strings.Contains(q, `"orders"`) {
			out = append(out, q)
		}
	}
	return out
}

// readsDetail returns the statements that touch an order's detail tables.
func readsDetail(sqls []string) []string { return touching(sqls, detailTables) }

// touching returns the statements that name one of tables.
func touching(sqls []string, tables []string) []string {
	var out []string
	for _, q := range sqls {
		for _, t := range tables {
			if strings.Contains(q, t) {
				out = append(out, q)
				break
			}
		}
	}
	return out
}

// newOrderReadApp builds the application over db, not started (no worker
// runs a statement of its own), with one product and one guest order; it
// returns the app, the guest's order with its access token, and a way to
// place another order (for the signed-in buyer customerID, placing as
// ctx; a guest's for "").
func newOrderReadApp(t *testing.T, db *store.DB) (*app.App, *order.Placed, func(ctx context.Context, customerID string) *order.Placed) {
	t.Helper()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{DB: db, SkipMigrate: true, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	owner := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_owner", Roles: []string{authz.RoleOwner}})
	p, err := a.Catalog.CreateProduct(owner, catalog.CreateProductInput{Title: "Tea", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "TEA", InventoryQuantity: 10,
			Prices: []catalog.PriceInput{{Currency: "USD", Amount: "5.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := a.Catalog.VariantsByProductIDs(owner, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	v := vs[p.ID][0]
	usd := func(n int64) money.Money { return money.New(n, money.USD) }
	addr := order.Address{FirstName: "Ada", Line1: "1 Main St", City: "Springfield", CountryCode: "US"}
	place := func(ctx context.Context, customerID string) *order.Placed {
		t.Helper()
		placed, err := a.Orders.Place(ctx, order.PlaceInput{
			CartID: "cart_read_" + customerID, CustomerID: customerID, Email: "guest@example.com", Currency: money.USD,
			ShippingAddress: addr, BillingAddress: addr, ShippingMethodID: "shm_post", ShippingMethodName: "Post",
			Lines: []order.PlaceLine{{VariantID: v.ID, ProductID: v.ProductID, SKU: "TEA", ProductTitle: "Tea", Quantity: 2,
				UnitPrice: usd(500), Subtotal: usd(1000), Discount: usd(0), Tax: usd(0), Total: usd(1000)}},
			Totals: pricing.Totals{Subtotal: usd(1000), DiscountTotal: usd(0), Shipping: usd(500), Tax: usd(0), Total: usd(1500)}})
		if err != nil {
			t.Fatal(err)
		}
		return placed
	}
	return a, place(authz.WithSubject(context.Background(), authz.AnonymousSubject()), ""), place
}

// TestOrderByTokenReadsTheRowAlone proves a status page's poll of
// orderByToken (statuses and total) reads the order's row and none of
// its lines, shipments or timeline, and answers what the whole read
// answers; a selection with lines or a timeline, directly or through
// the order of its payments, still reads them; a wrong or empty token
// is null either way, and the signed-in buyer's order by id likewise
// reads its row alone.
func TestOrderByTokenReadsTheRowAlone(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		log := &statementLog{}
		db.AddQueryHook(log)
		a, placed, place := newOrderReadApp(t, db)
		guest := context.WithValue(authz.WithSubject(context.Background(), authz.AnonymousSubject()), traceKey{}, true)
		exec := func(t *testing.T, ctx context.Context, query string, vars map[string]any) (any, []string) {
			t.Helper()
			log.take()
			r := testkit.ExecServer(t, ctx, a.GraphQL, query, vars)
			if len(r.Codes) > 0 {
				t.Fatalf("errors %v: %s", r.Codes, r.Raw)
			}
			return r.Data, log.take()
		}
		const rowFields = `id number status paymentStatus fulfillmentStatus paymentDeadline total { amount currencyCode } payments { id state }`
		tokenVars := map[string]any{"token": placed.AccessToken}

		// The bench's poll: one statement, the order's row.
		_, sqls := exec(t, guest, `query($token: String!) { orderByToken(token: $token) { paymentStatus } }`, tokenVars)
		if len(sqls) != 1 || !strings.Contains(sqls[0], `FROM "orders"`) {
			t.Errorf("polling paymentStatus ran %d statements, want one read of the order's row:\n%s", len(sqls), strings.Join(sqls, "\n"))
		}
		// The status page's poll, with the payments: the order's row is
		// read once, the payments' reads take it as read.
		status, sqls := exec(t, guest, `query($token: String!) { orderByToken(token: $token) { `+rowFields+` } }`, tokenVars)
		if d := readsDetail(sqls); len(d) > 0 {
			t.Errorf("the status poll read the order's detail:\n%s", strings.Join(d, "\n"))
		}
		if n := len(readsOrders(sqls)); n != 1 {
			t.Errorf("the status poll read the orders table %d times, want once:\n%s", n, strings.Join(sqls, "\n"))
		}
		want := map[string]any{"id": placed.Order.ID, "number": placed.Order.Number, "status": "OPEN", "paymentStatus": "PENDING",
			"fulfillmentStatus": "UNFULFILLED", "paymentDeadline": testkit.Dig(status, "orderByToken", "paymentDeadline"),
			"total": map[string]any{"amount": "15.00", "currencyCode": "USD"}, "payments": []any{}}
		if diff := cmp.Diff(want, testkit.Dig(status, "orderByToken")); diff != "" {
			t.Errorf("status poll (-want +got):\n%s", diff)
		}

		whole, sqls := exec(t, guest, `query($token: String!) { orderByToken(token: $token) { `+rowFields+` lines { sku quantity } timeline { kind } } }`, tokenVars)
		if len(readsDetail(sqls)) == 0 {
			t.Errorf("a selection with lines and timeline read no detail:\n%s", strings.Join(sqls, "\n"))
		}
		if diff := cmp.Diff([]any{map[string]any{"sku": "TEA", "quantity": float64(2)}}, testkit.Dig(whole, "orderByToken", "lines")); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]any{map[string]any{"kind": "PLACED"}}, testkit.Dig(whole, "orderByToken", "timeline")); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		for k, v := range want {
			if diff := cmp.Diff(v, testkit.Dig(whole, "orderByToken", k)); diff != "" {
				t.Errorf("%s differs between the row and the whole read (-row +whole):\n%s", k, diff)
			}
		}

		// Through the order of its payments, by a fragment: the same
		// order, whose lines must be loaded as well.
		_, sqls = exec(t, guest, `query($token: String!) { orderByToken(token: $token) { id ...P } }
			fragment P on Order { payments { order { lines { sku } } } }`, tokenVars)
		if len(readsDetail(sqls)) == 0 {
			t.Errorf("payments.order.lines read no detail:\n%s", strings.Join(sqls, "\n"))
		}

		for _, token := range []string{placed.AccessToken + "x", ""} {
			for _, fields := range []string{"id status", "id lines { sku }", "id payments { id state }"} {
				got, _ := exec(t, guest, `query($token: String!) { orderByToken(token: $token) { `+fields+` } }`, map[string]any{"token": token})
				if diff := cmp.Diff(map[string]any{"orderByToken": nil}, got); diff != "" {
					t.Errorf("token %q, fields %q (-want +got):\n%s", token, fields, diff)
				}
			}
		}

		// A guest order claimed by nobody: a signed-in buyer reaches it
		// by id neither with nor without its detail, staff do.
		buyer := context.WithValue(authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindCustomer, ID: "cus_bob",
			Roles: []string{authz.RoleCustomer}}), traceKey{}, true)
		staff := context.WithValue(authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_owner",
			Roles: []string{authz.RoleOwner}}), traceKey{}, true)
		idVars := map[string]any{"id": placed.Order.ID}
		for _, fields := range []string{"id status", "id lines { sku }", "id payments { id state }"} {
			got, _ := exec(t, buyer, `query($id: ID!) { order(id: $id) { `+fields+` } }`, idVars)
			if diff := cmp.Diff(map[string]any{"order": nil}, got); diff != "" {
				t.Errorf("another buyer, fields %q (-want +got):\n%s", fields, diff)
			}
		}
		got, sqls := exec(t, staff, `query($id: ID!) { order(id: $id) { id paymentStatus } }`, idVars)
		if d := readsDetail(sqls); len(d) > 0 {
			t.Errorf("order(id) without detail fields read the detail:\n%s", strings.Join(d, "\n"))
		}
		if diff := cmp.Diff(map[string]any{"id": placed.Order.ID, "paymentStatus": "PENDING"}, testkit.Dig(got, "order")); diff != "" {
			t.Errorf("order by id (-want +got):\n%s", diff)
		}

		// A signed-in buyer's own order by id, with its payments: the row
		// is read once; another buyer gets null and no payments.
		anon := authz.WithSubject(context.Background(), authz.AnonymousSubject())
		const pw = "a long enough passphrase 42"
		if err := a.Accounts.Service.Register(anon, account.Registration{Email: "alice@example.com", Password: pw}); err != nil {
			t.Fatal(err)
		}
		cus, _, err := a.Accounts.Service.Login(anon, "alice@example.com", pw)
		if err != nil {
			t.Fatal(err)
		}
		alice := context.WithValue(authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindCustomer, ID: cus.ID,
			Roles: []string{authz.RoleCustomer}}), traceKey{}, true)
		mine := place(alice, cus.ID)
		mineVars := map[string]any{"id": mine.Order.ID}
		got, sqls = exec(t, alice, `query($id: ID!) { order(id: $id) { id payments { id state } } }`, mineVars)
		if diff := cmp.Diff(map[string]any{"id": mine.Order.ID, "payments": []any{}}, testkit.Dig(got, "order")); diff != "" {
			t.Errorf("the buyer's own order (-want +got):\n%s", diff)
		}
		if n := len(readsOrders(sqls)); n != 1 {
			t.Errorf("the buyer's order with payments read the orders table %d times, want once:\n%s", n, strings.Join(sqls, "\n"))
		}
		got, _ = exec(t, buyer, `query($id: ID!) { order(id: $id) { id payments { id state } } }`, mineVars)
		if diff := cmp.Diff(map[string]any{"order": nil}, got); diff != "" {
			t.Errorf("another buyer's order with payments (-want +got):\n%s", diff)
		}
	})
}
