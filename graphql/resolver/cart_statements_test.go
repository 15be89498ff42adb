package resolver_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/peer"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
)

// The documents of `kassa bench checkout-cart` (core/app/bench_checkout.go).
const (
	stmtCartFields = `cart { id totalQuantity total { amount currencyCode } } userErrors { code field message }`
	stmtCartCreate = `mutation($input: CartCreateInput!) { cartCreate(input: $input) { token ` + stmtCartFields + ` } }`
	stmtLinesAdd   = `mutation($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { ` + stmtCartFields + ` } }`
	stmtAddress    = `mutation($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) { cart { id totalQuantity shippingMethods { methodId name price { amount currencyCode } } subtotal { amount } tax { amount } total { amount currencyCode } } userErrors { code field message } } }`
	stmtMethod     = `mutation($input: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $input) { ` + stmtCartFields + ` } }`
	stmtComplete   = `mutation($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id number total { amount currencyCode } } accessToken userErrors { code field message } } }`
)

// TestCheckoutStepStatements counts the statements of each step of a
// guest's checkout, as the bench sends them, on a second checkout of the
// same variant (the catalog's answers in memory, as in a shop that sells):
// no step reads the catalog again, because the first checkout's
// reservation wrote its availability into the kept answers rather than
// dropping them; on PostgreSQL the single-statement changes run no
// BEGIN/COMMIT, adding a line is one statement (cartStore.AddAtOnce) and
// checkout writes the stock and its ledger rows in one statement. A step
// that grows fails the test.
func TestCheckoutStepStatements(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		log := &statementLog{}
		db.AddQueryHook(log)
		a, placed, _ := newOrderReadApp(t, db)
		// A time to live longer than any test run: an answer that expires
		// would be read again whatever this pass does.
		catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{CacheFor: time.Hour})
		owner := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_owner", Roles: []string{authz.RoleOwner}})
		zone, err := a.Settings.Shipping.CreateZone(owner, shipping.ZoneInput{Name: "US", Countries: []string{"US"}})
		if err != nil {
			t.Fatal(err)
		}
		method, err := a.Settings.Shipping.CreateMethod(owner, shipping.MethodInput{ZoneID: zone.ID, Name: "Post", Kind: shipping.KindFlat,
			Prices: []shipping.MethodPriceInput{{Currency: "USD", Amount: "5.00"}}})
		if err != nil {
			t.Fatal(err)
		}
		variant := placed.Lines[0].VariantID
		// A buyer from a public address, whose unpaid orders checkout counts
		// (core/order holdsTooMany).
		guest := context.WithValue(authz.WithSubject(peer.With(context.Background(), peer.Client{IP: "203.0.113.50"}), authz.AnonymousSubject()), traceKey{}, true)
		exec := func(t *testing.T, query string, vars map[string]any) (any, []string) {
			t.Helper()
			log.take()
			r := testkit.ExecServer(t, guest, a.GraphQL, query, vars)
			if len(r.Codes) > 0 {
				t.Fatalf("errors %v: %s", r.Codes, r.Raw)
			}
			for _, ue := range []string{"cartCreate", "cartLinesAdd", "cartShippingAddressUpdate", "cartShippingMethodSelect", "checkoutComplete"} {
				if errs, _ := testkit.Dig(r.Data, ue, "userErrors").([]any); len(errs) > 0 {
					t.Fatalf("%s: userErrors %v", ue, errs)
				}
			}
			return r.Data, log.take()
		}
		in := func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return map[string]any{"input": m}
		}
		checkout := func(t *testing.T, n int) map[string][]string {
			steps := map[string][]string{}
			data, sqls := exec(t, stmtCartCreate, in("currency", "USD"))
			steps["cartCreate"] = sqls
			token := testkit.Dig(data, "cartCreate", "token").(string)
			_, steps["cartLinesAdd"] = exec(t, stmtLinesAdd, in("token", token, "lines", []any{map[string]any{"variantId": variant, "quantity": 1}}))
			data, steps["cartShippingAddressUpdate"] = exec(t, stmtAddress, in("token", token, "email", "guest@example.com",
				"address", map[string]any{"firstName": "Ada", "line1": "1 Main St", "city": "Springfield", "countryCode": "US"}))
			if testkit.Dig(data, "cartShippingAddressUpdate", "cart", "shippingMethods", 0, "methodId") != method.ID {
				t.Fatalf("the address update did not answer the shipping methods: %v", data)
			}
			_, steps["cartShippingMethodSelect"] = exec(t, stmtMethod, in("token", token, "methodId", method.ID))
			data, steps["checkoutComplete"] = exec(t, stmtComplete, in("token", token, "idempotencyKey", fmt.Sprintf("stmt-%d", n)))
			if testkit.Dig(data, "checkoutComplete", "order", "number") == nil {
				t.Fatalf("checkout %d placed no order", n)
			}
			return steps
		}
		checkout(t, 1) // reads the variant into memory
		steps := checkout(t, 2)

		// Adding to a line already there, and past the stock: the second
		// is refused with the cart's path, whichever way it is decided.
		data, _ := exec(t, stmtCartCreate, in("currency", "USD"))
		token := testkit.Dig(data, "cartCreate", "token").(string)
		add := func(qty int) any {
			t.Helper()
			r := testkit.ExecServer(t, guest, a.GraphQL, stmtLinesAdd, in("token", token, "lines", []any{map[string]any{"variantId": variant, "quantity": qty}}))
			if len(r.Codes) > 0 {
				t.Fatalf("errors %v: %s", r.Codes, r.Raw)
			}
			return r.Data
		}
		add(2)
		if q := testkit.Dig(add(3), "cartLinesAdd", "cart", "totalQuantity"); q != float64(5) {
			t.Errorf("a second add of the variant: totalQuantity %v, want 5", q)
		}
		over := add(100)
		if ue := testkit.Dig(over, "cartLinesAdd", "userErrors", 0); ue == nil || testkit.Dig(ue, "field") == nil {
			t.Errorf("an add past the stock was not refused with its path: %v", over)
		}
		if q := testkit.Dig(add(1), "cartLinesAdd", "cart", "totalQuantity"); q != float64(6) {
			t.Errorf("after a refused add: totalQuantity %v, want 6", q)
		}

		pg := db.Dialect == store.Postgres
		// Statements per step, BEGIN and COMMIT counted: PostgreSQL, SQLite
		// (where every write is a transaction, and the stock and its
		// ledger are two statements).
		want := map[string][2]int{
			"cartCreate":                {1, 1},
			"cartLinesAdd":              {1, 5},
			"cartShippingAddressUpdate": {1, 4},
			"cartShippingMethodSelect":  {3, 4},
			"checkoutComplete":          {8, 13},
		}
		for step, sqls := range steps {
			w := want[step][1]
			if pg {
				w = want[step][0]
			}
			t.Logf("%s: %d statements", step, len(sqls))
			if len(sqls) > w {
				t.Errorf("%s ran %d statements, want at most %d:\n%s", step, len(sqls), w, strings.Join(sqls, "\n"))
			}
			for _, q := range sqls {
				if strings.Contains(q, "product_variants") {
					t.Errorf("%s read the catalog, whose answers were in memory:\n%s", step, q)
				}
				if pg && strings.HasPrefix(q, "INSERT INTO inventory_adjustments") {
					t.Errorf("%s wrote the stock ledger in a statement of its own:\n%s", step, q)
				}
			}
		}
		// Checkout writes its idempotency answer with the claim and both
		// events (stock moved, order placed) in one insert.
		outbox := 0
		for _, q := range steps["checkoutComplete"] {
			if strings.HasPrefix(q, "UPDATE idempotency_keys") || strings.HasPrefix(q, "UPDATE \"idempotency_keys\"") {
				t.Errorf("checkoutComplete wrote its idempotency answer after the claim:\n%s", q)
			}
			if strings.Contains(q, "INTO \"outbox_events\"") || strings.Contains(q, "INTO outbox_events") {
				outbox++
			}
		}
		if outbox != 1 {
			t.Errorf("checkoutComplete ran %d outbox inserts, want 1:\n%s", outbox, strings.Join(steps["checkoutComplete"], "\n"))
		}
		// The contact and address form writes the email and the address
		// with the cart's lock: one UPDATE of the cart, as either alone.
		writes := 0
		for _, q := range steps["cartShippingAddressUpdate"] {
			if strings.Contains(q, "UPDATE carts SET") {
				writes++
				if !strings.Contains(q, "shipping_address = ") || !strings.Contains(q, "email = ") {
					t.Errorf("the address update's write does not set the email and the address:\n%s", q)
				}
			}
		}
		if writes != 1 {
			t.Errorf("cartShippingAddressUpdate wrote the cart %d times, want once:\n%s", writes, strings.Join(steps["cartShippingAddressUpdate"], "\n"))
		}
		if pg {
			checkStepPlans(t, db, steps)
		}
	})
}

// planScan finds each scan in a plan: the index it uses and the table,
// or the table of a sequential scan.
var planScan = regexp.MustCompile(`(?:Index Scan|Index Only Scan) (?:Backward )?using (\S+) on (\S+)|Bitmap Index Scan on (\S+)|Seq Scan on (\S+)`)

// checkStepPlans checks that every statement of the steps finds its rows
// through the index made for it in the plan PostgreSQL keeps for it (a
// generic plan), made as on a new shop whose tables have no statistics
// yet: a plan made then that scanned another index that happens to hold
// the key walks every row that index holds for each call, until
// autovacuum's first ANALYZE replans.
func checkStepPlans(t *testing.T, db *store.DB, steps map[string][]string) {
	t.Helper()
	// The indexes that find a checkout's rows, by table.
	keys := map[string][]string{
		"carts":            {"carts_pkey", "carts_token"},
		"cart_lines":       {"cart_lines_variant"},
		"inventory_levels": {"inventory_levels_pkey"},
		"orders":           {"orders_pkey", "orders_unpaid_network", "orders_unpaid_customer"},
		"idempotency_keys": {"idempotency_keys_pkey"},
	}
	tableOf := func(index string) string {
		for table, indexes := range keys {
			if slices.Contains(indexes, index) {
				return table
			}
		}
		return ""
	}
	scans := 0
	for step, sqls := range steps {
		for _, q := range sqls {
			if q == "BEGIN" || q == "COMMIT" {
				continue
			}
			plan := storetest.GenericPlan(t, db, q)
			for _, m := range planScan.FindAllStringSubmatch(plan, -1) {
				index, table := m[1], m[2]
				switch {
				case m[3] != "":
					index, table = m[3], tableOf(m[3])
				case m[4] != "":
					index, table = "", m[4]
				}
				want, ok := keys[table]
				if !ok {
					continue
				}
				scans++
				if !slices.Contains(want, index) {
					t.Errorf("%s: %s is scanned by %q:\n%s\n%s", step, table, index, q, plan)
				}
			}
		}
	}
	if scans < 10 {
		t.Errorf("%d scans of a checkout's tables checked", scans)
	}
}
