package graphql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/testkit"
)

// The callers of the order scenarios.
var (
	ordOwner   = authz.Subject{Kind: authz.KindStaff, ID: "stf_owner", Roles: []string{authz.RoleOwner}}
	ordClerk   = authz.Subject{Kind: authz.KindStaff, ID: "stf_clerk", Roles: []string{authz.RoleFulfillment}}
	ordFinance = authz.Subject{Kind: authz.KindStaff, ID: "stf_finance", Roles: []string{authz.RoleFinance}}
	ordAlice   = authz.Subject{Kind: authz.KindCustomer, ID: "cus_alice", Roles: []string{authz.RoleCustomer}}
	ordBob     = authz.Subject{Kind: authz.KindCustomer, ID: "cus_bob", Roles: []string{authz.RoleCustomer}}
	ordGuest   = authz.AnonymousSubject()
)

// orderWorld is a shop with two products and five orders, placed through
// the app's order service as checkout places them:
//
//	#1001 alice (signed in): 3 tea, 1 cup
//	#1002 bob: 1 tea
//	#1003 a guest (guest@example.com), holding token
//	#1004 a guest with alice's address (alice@example.com): claimable by her
//	#1005 bob: 1 cup, paid with the "pay.card" plugin
//
// alice's address is verified, bob's is not.
type orderWorld struct {
	ta *testkit.TestApp
	// ids and lines are the orders' ids and line ids, by number.
	ids   map[string]string
	lines map[string][]string
	// token opens #1003.
	token string
}

func as(s authz.Subject) context.Context { return authz.WithSubject(context.Background(), s) }

func newOrderWorld(t *testing.T, ta *testkit.TestApp) *orderWorld {
	t.Helper()
	ctx := context.Background()
	w := &orderWorld{ta: ta, ids: map[string]string{}, lines: map[string][]string{}}
	now := time.Now().UTC()
	for _, c := range []struct {
		id, email string
		verified  *time.Time
	}{{"cus_alice", "alice@example.com", &now}, {"cus_bob", "bob@example.com", nil}} {
		if _, err := ta.DB.NewRaw("INSERT INTO customers (id, email, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			c.id, c.email, c.verified, now, now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	usd := func(n int64) money.Money { return money.New(n, money.USD) }
	type item struct {
		title, sku string
		price      int64
	}
	variants := map[string]catalog.Variant{}
	for _, it := range []item{{"Tea", "TEA", 500}, {"Cup", "CUP", 800}} {
		p, err := ta.Catalog.CreateProduct(as(ordOwner), catalog.CreateProductInput{Title: it.title, Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: it.sku, InventoryQuantity: 50,
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: fmt.Sprintf("%d.00", it.price/100)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := ta.Catalog.VariantsByProductIDs(as(ordOwner), []string{p.ID})
		if err != nil {
			t.Fatal(err)
		}
		variants[it.sku] = vs[p.ID][0]
	}
	price := map[string]int64{"TEA": 500, "CUP": 800}
	title := map[string]string{"TEA": "Tea", "CUP": "Cup"}
	type qty struct {
		sku string
		n   int64
	}
	place := func(number string, by authz.Subject, customerID, email string, items ...qty) {
		in := order.PlaceInput{CartID: "cart_" + number, CustomerID: customerID, Email: email, Currency: money.USD,
			ShippingAddress:  order.Address{FirstName: "Ada", Line1: "1 Main St", City: "Springfield", CountryCode: "US"},
			BillingAddress:   order.Address{FirstName: "Ada", Line1: "1 Main St", City: "Springfield", CountryCode: "US"},
			ShippingMethodID: "shm_post", ShippingMethodName: "Post"}
		var sub int64
		for _, it := range items {
			v := variants[it.sku]
			amount := price[it.sku] * it.n
			sub += amount
			in.Lines = append(in.Lines, order.PlaceLine{VariantID: v.ID, ProductID: v.ProductID, SKU: it.sku, ProductTitle: title[it.sku],
				Quantity: it.n, UnitPrice: usd(price[it.sku]), Subtotal: usd(amount), Discount: usd(0), Tax: usd(0), Total: usd(amount)})
		}
		in.Totals = pricing.Totals{Subtotal: usd(sub), DiscountTotal: usd(0), Shipping: usd(500), Tax: usd(0), Total: usd(sub + 500)}
		placed, err := ta.Orders.Place(as(by), in)
		if err != nil {
			t.Fatalf("place %s: %v", number, err)
		}
		if placed.Order.Number != number {
			t.Fatalf("placed %s, want %s", placed.Order.Number, number)
		}
		w.ids[number] = placed.Order.ID
		for _, l := range placed.Lines {
			w.lines[number] = append(w.lines[number], l.ID)
		}
		if placed.AccessToken != "" && number == "#1003" {
			w.token = placed.AccessToken
		}
	}
	place("#1001", ordAlice, "cus_alice", "alice@example.com", qty{"TEA", 3}, qty{"CUP", 1})
	place("#1002", ordBob, "cus_bob", "bob@example.com", qty{"TEA", 1})
	place("#1003", ordGuest, "", "guest@example.com", qty{"TEA", 2})
	place("#1004", ordGuest, "", "alice@example.com", qty{"CUP", 1})
	place("#1005", ordBob, "cus_bob", "bob@example.com", qty{"CUP", 1})
	// The payment issue moves payments; here the platform does it by hand.
	if _, err := ta.Orders.MovePayment(as(authz.SystemSubject("test")), order.PaymentMove{OrderID: w.ids["#1005"],
		From: order.PaymentPending, To: order.PaymentPaid}); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.DB.NewRaw("UPDATE orders SET payment_method = ? WHERE id = ?", "pay.card", w.ids["#1005"]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// numbers is the WantData of a connection field listing orders by number.
func numbers(field string, ns ...string) string {
	nodes := make([]map[string]string, len(ns))
	for i, n := range ns {
		nodes[i] = map[string]string{"number": n}
	}
	b, _ := json.Marshal(map[string]any{field: map[string]any{"nodes": nodes}})
	return string(b)
}

const (
	ordersDoc = `query($first: Int, $after: String, $filter: OrderFilter, $sort: OrderSort) {
		orders(first: $first, after: $after, filter: $filter, sort: $sort) { nodes { number } } }`
	ordersPageDoc = `query($first: Int, $after: String) {
		orders(first: $first, after: $after) { edges { cursor node { number } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`
	orderDoc = `query($id: ID!) { order(id: $id) { number status paymentStatus fulfillmentStatus email customerId currencyCode
		subtotal { amount currencyCode } shipping { amount } tax { amount } discountTotal { amount } total { amount } discounts { code }
		shippingAddress { city countryCode } shippingMethodName
		lines { sku productTitle quantity quantityShipped unitPrice { amount } total { amount } }
		shipments { carrier trackingNumber lines { quantity } }
		timeline { kind from to actorKind actorId reason visibleToBuyer }
		notes { body authorId } } }`
	orderStatusDoc    = `query($id: ID!) { order(id: $id) { number status paymentStatus fulfillmentStatus } }`
	orderTimelineDoc  = `query($id: ID!) { order(id: $id) { timeline { kind from to actorKind actorId reason visibleToBuyer } notes { body } } }`
	orderByTokenDoc   = `query($token: String!) { orderByToken(token: $token) { number status customerId lines { sku quantity } timeline { kind } } }`
	myOrdersDoc       = `{ myOrders(first: 10) { nodes { number } } }`
	ordersCountDoc    = `query($filter: OrderFilter, $limit: Int) { ordersCount(filter: $filter, limit: $limit) { count hasMore } }`
	nodeOrderDoc      = `query($id: ID!) { node(id: $id) { id ... on Order { number } } }`
	orderShipDoc      = `mutation($input: OrderShipInput!) { orderShip(input: $input) { shipment { carrier trackingNumber lines { quantity } } order { fulfillmentStatus lines { sku quantityShipped } } userErrors { field code } } }`
	orderDeliveredDoc = `mutation($input: OrderMarkDeliveredInput!) { orderMarkDelivered(input: $input) { order { fulfillmentStatus shipments { deliveredAt } } userErrors { field code } } }`
	orderCompleteDoc  = `mutation($input: OrderCompleteInput!) { orderComplete(input: $input) { order { status fulfillmentStatus } userErrors { field code } } }`
	orderCancelDoc    = `mutation($input: OrderCancelInput!) { orderCancel(input: $input) { order { number status } userErrors { field code } } }`
	orderNoteDoc      = `mutation($input: OrderNoteAddInput!) { orderNoteAdd(input: $input) { note { body authorId } order { notes { body } } userErrors { field code } } }`
	claimDoc          = `mutation { customerClaimGuestOrders { claimedCount userErrors { field code } } }`
)

// TestOrdersThroughGraphQL runs the order API end to end on both engines:
// the staff's list (filters, sorts, pages), an order's detail, shipping
// in parts, delivery, completion and cancellation with every refused move
// answered by a userError and no event; buyers reading their own orders
// and nobody else's, a guest by the access token, cancelling an unpaid
// order and claiming guest orders.
func TestOrdersThroughGraphQL(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		w := newOrderWorld(t, ta)
		t.Run("staff list", func(t *testing.T) { w.staffList(t) })
		t.Run("pages", func(t *testing.T) { w.pages(t) })
		t.Run("buyers", func(t *testing.T) { w.buyers(t) })
		t.Run("fulfillment", func(t *testing.T) { w.fulfillment(t) })
		t.Run("cancel", func(t *testing.T) { w.cancel(t) })
		t.Run("claim", func(t *testing.T) { w.claim(t) })
	})
}

func (w *orderWorld) staffList(t *testing.T) {
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	filter := func(kv ...any) map[string]any { return vars("filter", vars(kv...)) }
	testkit.Run(t, w.ta, []testkit.Scenario{
		{Name: "newest first", As: ordOwner, Query: ordersDoc,
			WantData: numbers("orders", "#1005", "#1004", "#1003", "#1002", "#1001")},
		{Name: "a clerk lists too", As: ordClerk, Query: ordersDoc, Variables: vars("first", 2),
			WantData: numbers("orders", "#1005", "#1004")},
		{Name: "by payment status", As: ordFinance, Query: ordersDoc, Variables: filter("paymentStatus", "PAID"),
			WantData: numbers("orders", "#1005")},
		{Name: "by status and fulfillment", As: ordOwner, Query: ordersDoc,
			Variables: filter("status", "OPEN", "fulfillmentStatus", "UNFULFILLED", "paymentStatus", "PENDING"),
			WantData:  numbers("orders", "#1004", "#1003", "#1002", "#1001")},
		{Name: "by buyer", As: ordOwner, Query: ordersDoc, Variables: filter("customerId", "cus_bob"),
			WantData: numbers("orders", "#1005", "#1002")},
		{Name: "by payment method", As: ordOwner, Query: ordersDoc, Variables: filter("paymentMethod", "pay.card"),
			WantData: numbers("orders", "#1005")},
		{Name: "by number", As: ordOwner, Query: ordersDoc, Variables: filter("query", "#1003"),
			WantData: numbers("orders", "#1003")},
		{Name: "by bare number", As: ordOwner, Query: ordersDoc, Variables: filter("query", "1002"),
			WantData: numbers("orders", "#1002")},
		{Name: "by email", As: ordOwner, Query: ordersDoc, Variables: filter("query", "ALICE@example.com"),
			WantData: numbers("orders", "#1004", "#1001")},
		{Name: "by the name before the @", As: ordOwner, Query: ordersDoc, Variables: filter("query", "bob"),
			WantData: numbers("orders", "#1005", "#1002")},
		{Name: "placed since an hour ago", As: ordOwner, Query: ordersDoc, Variables: filter("createdFrom", past, "createdTo", future),
			WantData: numbers("orders", "#1005", "#1004", "#1003", "#1002", "#1001")},
		{Name: "placed in the next hour", As: ordOwner, Query: ordersDoc, Variables: filter("createdFrom", future),
			WantData: numbers("orders")},
		{Name: "a range ending before it starts", As: ordOwner, Query: ordersDoc, Variables: filter("createdFrom", future, "createdTo", past),
			WantErrorCode: order.CodeInvalidDateRange},
		{Name: "by number, oldest first", As: ordOwner, Query: ordersDoc, Variables: vars("sort", vars("key", "NUMBER", "reverse", true)),
			WantData: numbers("orders", "#1001", "#1002", "#1003", "#1004", "#1005")},
		{Name: "by total, highest first", As: ordOwner, Query: ordersDoc, Variables: vars("first", 2, "sort", vars("key", "TOTAL")),
			WantData: numbers("orders", "#1001", "#1003")},
		{Name: "more than the largest page", As: ordOwner, Query: ordersDoc, Variables: vars("first", 101),
			WantErrorCode: "INVALID_PAGE_SIZE"},
		{Name: "a forged cursor", As: ordOwner, Query: ordersDoc, Variables: vars("after", "bm90IGEgY3Vyc29y"),
			WantErrorCode: "INVALID_CURSOR"},
		{Name: "a buyer may not list", As: ordAlice, Query: ordersDoc, WantErrorCode: "FORBIDDEN"},
		{Name: "a guest may not list", As: ordGuest, Query: ordersDoc, WantErrorCode: "UNAUTHENTICATED"},
		{Name: "a page with lines and shipments", As: ordClerk, Query: `{ orders(first: 2, sort: {key: NUMBER, reverse: true}) { nodes { number lines { sku quantity } shipments { id } } } }`,
			WantData: `{"orders":{"nodes":[{"number":"#1001","lines":[{"sku":"TEA","quantity":3},{"sku":"CUP","quantity":1}],"shipments":[]},
				{"number":"#1002","lines":[{"sku":"TEA","quantity":1}],"shipments":[]}]}}`},
		{Name: "a sort of nulls is the default sort, newest first", As: ordClerk, Query: `{ orders(first: 1, sort: {key: null, reverse: null}) { nodes { number } } }`,
			WantData: `{"orders":{"nodes":[{"number":"#1005"}]}}`},
		{Name: "detail", As: ordOwner, Query: orderDoc, Variables: vars("id", w.ids["#1001"]),
			WantData: `{"order":{"number":"#1001","status":"OPEN","paymentStatus":"PENDING","fulfillmentStatus":"UNFULFILLED",
				"email":"alice@example.com","customerId":"cus_alice","currencyCode":"USD",
				"subtotal":{"amount":"23.00","currencyCode":"USD"},"shipping":{"amount":"5.00"},"tax":{"amount":"0.00"},
				"discountTotal":{"amount":"0.00"},"total":{"amount":"28.00"},"discounts":[],
				"shippingAddress":{"city":"Springfield","countryCode":"US"},"shippingMethodName":"Post",
				"lines":[{"sku":"TEA","productTitle":"Tea","quantity":3,"quantityShipped":0,"unitPrice":{"amount":"5.00"},"total":{"amount":"15.00"}},
					{"sku":"CUP","productTitle":"Cup","quantity":1,"quantityShipped":0,"unitPrice":{"amount":"8.00"},"total":{"amount":"8.00"}}],
				"shipments":[],
				"timeline":[{"kind":"PLACED","from":null,"to":"OPEN","actorKind":"CUSTOMER","actorId":"cus_alice","reason":null,"visibleToBuyer":true}],
				"notes":[]}}`},
		{Name: "no such order", As: ordOwner, Query: orderDoc, Variables: vars("id", "ord_01J00000000000000000000000"),
			WantData: `{"order":null}`},
		{Name: "node of an order", As: ordClerk, Query: nodeOrderDoc, Variables: vars("id", w.ids["#1002"]),
			WantData: fmt.Sprintf(`{"node":{"id":%q,"number":"#1002"}}`, w.ids["#1002"])},

		// The bounded count of a filter.
		{Name: "count every order", As: ordOwner, Query: ordersCountDoc, WantData: `{"ordersCount":{"count":5,"hasMore":false}}`},
		{Name: "a clerk counts a filter", As: ordClerk, Query: ordersCountDoc, Variables: filter("status", "OPEN", "paymentStatus", "PENDING"),
			WantData: `{"ordersCount":{"count":4,"hasMore":false}}`},
		{Name: "count up to a limit", As: ordFinance, Query: ordersCountDoc, Variables: vars("limit", 3),
			WantData: `{"ordersCount":{"count":3,"hasMore":true}}`},
		{Name: "count by email", As: ordOwner, Query: ordersCountDoc, Variables: vars("limit", 1, "filter", vars("query", "bob")),
			WantData: `{"ordersCount":{"count":1,"hasMore":true}}`},
		{Name: "a count limit of zero", As: ordOwner, Query: ordersCountDoc, Variables: vars("limit", 0), WantErrorCode: order.CodeInvalidLimit},
		{Name: "a huge count limit", As: ordOwner, Query: ordersCountDoc, Variables: vars("limit", 2147483647), WantErrorCode: order.CodeInvalidLimit},
		{Name: "a count of a bad range", As: ordOwner, Query: ordersCountDoc, Variables: filter("createdFrom", future, "createdTo", past),
			WantErrorCode: order.CodeInvalidDateRange},
		{Name: "a buyer may not count", As: ordAlice, Query: ordersCountDoc, WantErrorCode: "FORBIDDEN"},
		{Name: "a guest may not count", As: ordGuest, Query: ordersCountDoc, WantErrorCode: "UNAUTHENTICATED"},
		{Name: "a guest's huge limit tells nothing", As: ordGuest, Query: ordersCountDoc, Variables: vars("limit", 2147483647), WantErrorCode: "UNAUTHENTICATED"},
	})
	// The paths of refused arguments name the argument that carries them.
	for _, c := range []struct {
		doc  string
		vars map[string]any
		want []string
	}{
		{ordersDoc, filter("createdFrom", future, "createdTo", past), []string{"filter", "createdTo"}},
		{ordersDoc, vars("after", "bm90IGEgY3Vyc29y"), []string{"after"}},
		{ordersCountDoc, filter("createdFrom", future, "createdTo", past), []string{"filter", "createdTo"}},
		{ordersCountDoc, vars("limit", -5), []string{"limit"}},
	} {
		res := w.ta.Exec(ordOwner, c.doc, c.vars)
		if len(res.Errors) != 1 || !cmp.Equal(res.Errors[0].Extensions["field"], c.want) {
			t.Errorf("%v: errors %+v, want one at %v", c.vars, res.Errors, c.want)
		}
	}
	// GET carries the count as any query, with the same refusal.
	if status, body := guestGet(t, w.ta.URL, ordersCountDoc, `{"limit":10000}`); !strings.Contains(body, "UNAUTHENTICATED") || strings.Contains(body, `"count"`) {
		t.Errorf("an anonymous GET of the count: %d %s", status, body)
	}
}

// pages walks the list two orders at a time: every order once, in order,
// and the cursors of one page lead to the next.
func (w *orderWorld) pages(t *testing.T) {
	var got []string
	var after any
	for i := 0; i < 3; i++ {
		var next string
		testkit.Run(t, w.ta, []testkit.Scenario{{
			Name: fmt.Sprintf("page %d", i+1), As: ordOwner, Query: ordersPageDoc, Variables: vars("first", 2, "after", after),
			Check: func(t *testing.T, data json.RawMessage) {
				d := testkit.DecodeJSON(t, data)
				edges, _ := testkit.Dig(d, "orders", "edges").([]any)
				for j := range edges {
					got = append(got, testkit.Dig(d, "orders", "edges", j, "node", "number").(string))
				}
				hasNext := testkit.Dig(d, "orders", "pageInfo", "hasNextPage")
				hasPrev := testkit.Dig(d, "orders", "pageInfo", "hasPreviousPage")
				if hasNext != (i < 2) || hasPrev != (i > 0) {
					t.Errorf("page %d: hasNextPage %v, hasPreviousPage %v", i+1, hasNext, hasPrev)
				}
				next, _ = testkit.Dig(d, "orders", "pageInfo", "endCursor").(string)
				if last, _ := testkit.Dig(d, "orders", "edges", len(edges)-1, "cursor").(string); last != next {
					t.Errorf("endCursor %q is not the last edge's cursor %q", next, last)
				}
			},
		}})
		after = next
	}
	if diff := cmp.Diff([]string{"#1005", "#1004", "#1003", "#1002", "#1001"}, got); diff != "" {
		t.Fatalf("pages (-want +got):\n%s", diff)
	}
}

// buyers: a buyer reads their own orders and nobody else's; a guest reads
// theirs by the token only.
func (w *orderWorld) buyers(t *testing.T) {
	testkit.Run(t, w.ta, []testkit.Scenario{
		{Name: "alice's orders", As: ordAlice, Query: myOrdersDoc, WantData: numbers("myOrders", "#1001")},
		{Name: "bob's orders", As: ordBob, Query: myOrdersDoc, WantData: numbers("myOrders", "#1005", "#1002")},
		{Name: "a guest has none", As: ordGuest, Query: myOrdersDoc, WantData: numbers("myOrders")},
		{Name: "staff have none", As: ordOwner, Query: myOrdersDoc, WantData: numbers("myOrders")},
		{Name: "bob's orders with their lines", As: ordBob, Query: `{ myOrders { edges { node { number lines { sku quantity } timeline { kind } notes { body } } } } }`,
			WantData: `{"myOrders":{"edges":[
				{"node":{"number":"#1005","lines":[{"sku":"CUP","quantity":1}],"timeline":[{"kind":"PLACED"},{"kind":"PAYMENT_STATUS"}],"notes":[]}},
				{"node":{"number":"#1002","lines":[{"sku":"TEA","quantity":1}],"timeline":[{"kind":"PLACED"}],"notes":[]}}]}}`},
		{Name: "alice reads hers", As: ordAlice, Query: orderStatusDoc, Variables: vars("id", w.ids["#1001"]),
			WantData: `{"order":{"number":"#1001","status":"OPEN","paymentStatus":"PENDING","fulfillmentStatus":"UNFULFILLED"}}`},
		{Name: "alice reads bob's", As: ordAlice, Query: orderDoc, Variables: vars("id", w.ids["#1002"]), WantData: `{"order":null}`},
		{Name: "alice reads a guest's", As: ordAlice, Query: orderDoc, Variables: vars("id", w.ids["#1004"]), WantData: `{"order":null}`},
		{Name: "alice's node of bob's", As: ordAlice, Query: nodeOrderDoc, Variables: vars("id", w.ids["#1002"]), WantData: `{"node":null}`},
		{Name: "a guest by id", As: ordGuest, Query: orderDoc, Variables: vars("id", w.ids["#1003"]), WantData: `{"order":null}`},
		{Name: "a guest's node", As: ordGuest, Query: nodeOrderDoc, Variables: vars("id", w.ids["#1003"]), WantData: `{"node":null}`},
		{Name: "a guest by token", As: ordGuest, Query: orderByTokenDoc, Variables: vars("token", w.token),
			WantData: `{"orderByToken":{"number":"#1003","status":"OPEN","customerId":null,"lines":[{"sku":"TEA","quantity":2}],"timeline":[{"kind":"PLACED"}]}}`},
		{Name: "a wrong token", As: ordGuest, Query: orderByTokenDoc, Variables: vars("token", w.token+"x"), WantData: `{"orderByToken":null}`},
		{Name: "an empty token", As: ordGuest, Query: orderByTokenDoc, Variables: vars("token", ""), WantData: `{"orderByToken":null}`},
	})
}

// fulfillment ships #1001 in three parcels, delivers and completes it;
// every move out of order is a userError that writes no event.
func (w *orderWorld) fulfillment(t *testing.T) {
	id, tea, cup := w.ids["#1001"], w.lines["#1001"][0], w.lines["#1001"][1]
	ship := func(carrier string, lines ...any) map[string]any {
		var ls []any
		for i := 0; i+1 < len(lines); i += 2 {
			ls = append(ls, vars("lineId", lines[i], "quantity", lines[i+1]))
		}
		return in("orderId", id, "lines", ls, "carrier", carrier, "trackingNumber", "TRK-"+carrier)
	}
	none := []string{}
	refused := func(field string, code string) string {
		f := "null"
		if field != "" {
			b, _ := json.Marshal(strings.Split(field, "."))
			f = string(b)
		}
		return fmt.Sprintf(`{"field":%s,"code":%q}`, f, code)
	}
	testkit.Run(t, w.ta, []testkit.Scenario{
		{Name: "finance may not ship", As: ordFinance, Query: orderShipDoc, Variables: ship("UPS", tea, 1),
			WantErrorCode: "FORBIDDEN", WantEvents: none},
		{Name: "a buyer may not ship her own", As: ordAlice, Query: orderShipDoc, Variables: ship("UPS", tea, 1),
			WantErrorCode: "FORBIDDEN", WantEvents: none},
		{Name: "more than ordered", As: ordClerk, Query: orderShipDoc, Variables: ship("UPS", tea, 4),
			WantData:       `{"orderShip":{"shipment":null,"order":null,"userErrors":[` + refused("input.lines.0.quantity", order.CodeInvalidQuantity) + `]}}`,
			WantUserErrors: []string{order.CodeInvalidQuantity}, WantEvents: none},
		{Name: "another order's line", As: ordClerk, Query: orderShipDoc, Variables: ship("UPS", w.lines["#1002"][0], 1),
			WantUserErrors: []string{order.CodeUnknownLine}, WantEvents: none},
		{Name: "a line twice", As: ordClerk, Query: orderShipDoc, Variables: ship("UPS", tea, 1, tea, 1),
			WantUserErrors: []string{order.CodeDuplicateLine}, WantEvents: none},
		{Name: "no lines", As: ordClerk, Query: orderShipDoc, Variables: ship("UPS"),
			WantUserErrors: []string{order.CodeRequired}, WantEvents: none},
		{Name: "complete before shipping", As: ordClerk, Query: orderCompleteDoc, Variables: in("id", id),
			WantUserErrors: []string{order.CodeNotFulfilled}, WantEvents: none},
		{Name: "deliver before shipping", As: ordClerk, Query: orderDeliveredDoc, Variables: in("id", id),
			WantUserErrors: []string{"INVALID_TRANSITION"}, WantEvents: none},
		{Name: "ship 2 tea", As: ordClerk, Query: orderShipDoc, Variables: ship("UPS", tea, 2),
			WantData: `{"orderShip":{"shipment":{"carrier":"UPS","trackingNumber":"TRK-UPS","lines":[{"quantity":2}]},
				"order":{"fulfillmentStatus":"PARTIALLY_FULFILLED","lines":[{"sku":"TEA","quantityShipped":2},{"sku":"CUP","quantityShipped":0}]},"userErrors":[]}}`,
			WantEvents: []string{catalog.SubjectStockMoved, order.SubjectShipped}},
		{Name: "cancel once something shipped", As: ordClerk, Query: orderCancelDoc, Variables: in("id", id, "reason", "out of stock"),
			WantUserErrors: []string{order.CodeAlreadyShipped}, WantEvents: none},
		{Name: "ship the last tea", As: ordClerk, Query: orderShipDoc, Variables: ship("DHL", tea, 1),
			WantData: `{"orderShip":{"shipment":{"carrier":"DHL","trackingNumber":"TRK-DHL","lines":[{"quantity":1}]},
				"order":{"fulfillmentStatus":"PARTIALLY_FULFILLED","lines":[{"sku":"TEA","quantityShipped":3},{"sku":"CUP","quantityShipped":0}]},"userErrors":[]}}`,
			WantEvents: []string{catalog.SubjectStockMoved, order.SubjectShipped}},
		{Name: "ship the cup", As: ordClerk, Query: orderShipDoc, Variables: ship("DHL", cup, 1),
			WantData: `{"orderShip":{"shipment":{"carrier":"DHL","trackingNumber":"TRK-DHL","lines":[{"quantity":1}]},
				"order":{"fulfillmentStatus":"FULFILLED","lines":[{"sku":"TEA","quantityShipped":3},{"sku":"CUP","quantityShipped":1}]},"userErrors":[]}}`,
			WantEvents: []string{catalog.SubjectStockMoved, order.SubjectShipped}},
		{Name: "nothing left to ship", As: ordClerk, Query: orderShipDoc, Variables: ship("DHL", cup, 1),
			WantUserErrors: []string{order.CodeNothingToShip}, WantEvents: none},
		{Name: "delivered", As: ordClerk, Query: orderDeliveredDoc, Variables: in("id", id),
			Check: func(t *testing.T, data json.RawMessage) {
				d := testkit.DecodeJSON(t, data)
				if s := testkit.Dig(d, "orderMarkDelivered", "order", "fulfillmentStatus"); s != "DELIVERED" {
					t.Errorf("fulfillment %v", s)
				}
				for i := 0; i < 3; i++ {
					if testkit.Dig(d, "orderMarkDelivered", "order", "shipments", i, "deliveredAt") == nil {
						t.Errorf("shipment %d has no deliveredAt", i)
					}
				}
			},
			WantEvents: []string{order.SubjectDelivered}},
		{Name: "delivered twice", As: ordClerk, Query: orderDeliveredDoc, Variables: in("id", id),
			WantUserErrors: []string{"INVALID_TRANSITION"}, WantEvents: none},
		{Name: "completed", As: ordClerk, Query: orderCompleteDoc, Variables: in("id", id),
			WantData:   `{"orderComplete":{"order":{"status":"COMPLETED","fulfillmentStatus":"DELIVERED"},"userErrors":[]}}`,
			WantEvents: []string{order.SubjectCompleted}},
		{Name: "cancel a completed order", As: ordOwner, Query: orderCancelDoc, Variables: in("id", id, "reason", "changed mind"),
			WantUserErrors: []string{order.CodeNotOpen}, WantEvents: none},
		{Name: "ship a completed order", As: ordClerk, Query: orderShipDoc, Variables: ship("DHL", cup, 1),
			WantUserErrors: []string{order.CodeNotOpen}, WantEvents: none},
		{Name: "an empty note", As: ordClerk, Query: orderNoteDoc, Variables: in("orderId", id, "body", "  "),
			WantData:       `{"orderNoteAdd":{"note":null,"order":null,"userErrors":[` + refused("input.body", order.CodeRequired) + `]}}`,
			WantUserErrors: []string{order.CodeRequired}, WantEvents: none},
		{Name: "a note on a missing order", As: ordClerk, Query: orderNoteDoc, Variables: in("orderId", "ord_01J00000000000000000000000", "body", "hello"),
			WantData:       `{"orderNoteAdd":{"note":null,"order":null,"userErrors":[` + refused("input", order.CodeOrderNotFound) + `]}}`,
			WantUserErrors: []string{order.CodeOrderNotFound}, WantEvents: none},
		{Name: "a note", As: ordClerk, Query: orderNoteDoc, Variables: in("orderId", id, "body", "Left at the door.\nSigned by a neighbour."),
			WantData:   `{"orderNoteAdd":{"note":{"body":"Left at the door.\nSigned by a neighbour.","authorId":"stf_clerk"},"order":{"notes":[{"body":"Left at the door.\nSigned by a neighbour."}]},"userErrors":[]}}`,
			WantEvents: none},
		{Name: "a buyer may not write notes", As: ordAlice, Query: orderNoteDoc, Variables: in("orderId", id, "body", "hi"),
			WantErrorCode: "FORBIDDEN", WantEvents: none},
		{Name: "staff read the whole timeline", As: ordOwner, Query: orderTimelineDoc, Variables: vars("id", id),
			WantData: `{"order":{"timeline":[
				{"kind":"PLACED","from":null,"to":"OPEN","actorKind":"CUSTOMER","actorId":"cus_alice","reason":null,"visibleToBuyer":true},
				{"kind":"FULFILLMENT_STATUS","from":"UNFULFILLED","to":"PARTIALLY_FULFILLED","actorKind":"STAFF","actorId":"stf_clerk","reason":null,"visibleToBuyer":true},
				{"kind":"SHIPMENT","from":"PARTIALLY_FULFILLED","to":"PARTIALLY_FULFILLED","actorKind":"STAFF","actorId":"stf_clerk","reason":null,"visibleToBuyer":true},
				{"kind":"FULFILLMENT_STATUS","from":"PARTIALLY_FULFILLED","to":"FULFILLED","actorKind":"STAFF","actorId":"stf_clerk","reason":null,"visibleToBuyer":true},
				{"kind":"FULFILLMENT_STATUS","from":"FULFILLED","to":"DELIVERED","actorKind":"STAFF","actorId":"stf_clerk","reason":null,"visibleToBuyer":true},
				{"kind":"STATUS","from":"OPEN","to":"COMPLETED","actorKind":"STAFF","actorId":"stf_clerk","reason":null,"visibleToBuyer":true},
				{"kind":"NOTE","from":null,"to":null,"actorKind":"STAFF","actorId":"stf_clerk","reason":"Left at the door.\nSigned by a neighbour.","visibleToBuyer":false}],
				"notes":[{"body":"Left at the door.\nSigned by a neighbour."}]}}`},
		{Name: "the buyer reads hers without notes or staff ids", As: ordAlice, Query: orderTimelineDoc, Variables: vars("id", id),
			WantData: `{"order":{"timeline":[
				{"kind":"PLACED","from":null,"to":"OPEN","actorKind":"CUSTOMER","actorId":"cus_alice","reason":null,"visibleToBuyer":true},
				{"kind":"FULFILLMENT_STATUS","from":"UNFULFILLED","to":"PARTIALLY_FULFILLED","actorKind":"STAFF","actorId":null,"reason":null,"visibleToBuyer":true},
				{"kind":"SHIPMENT","from":"PARTIALLY_FULFILLED","to":"PARTIALLY_FULFILLED","actorKind":"STAFF","actorId":null,"reason":null,"visibleToBuyer":true},
				{"kind":"FULFILLMENT_STATUS","from":"PARTIALLY_FULFILLED","to":"FULFILLED","actorKind":"STAFF","actorId":null,"reason":null,"visibleToBuyer":true},
				{"kind":"FULFILLMENT_STATUS","from":"FULFILLED","to":"DELIVERED","actorKind":"STAFF","actorId":null,"reason":null,"visibleToBuyer":true},
				{"kind":"STATUS","from":"OPEN","to":"COMPLETED","actorKind":"STAFF","actorId":null,"reason":null,"visibleToBuyer":true}],
				"notes":[]}}`},
	})
}

// cancel: staff cancel with a reason; a buyer cancels their own unpaid
// order by id, a guest by token; nobody cancels another's, or a paid one.
func (w *orderWorld) cancel(t *testing.T) {
	none := []string{}
	cancelled := func(number string) string {
		return fmt.Sprintf(`{"orderCancel":{"order":{"number":%q,"status":"CANCELLED"},"userErrors":[]}}`, number)
	}
	testkit.Run(t, w.ta, []testkit.Scenario{
		{Name: "staff without a reason", As: ordClerk, Query: orderCancelDoc, Variables: in("id", w.ids["#1002"]),
			WantData:       `{"orderCancel":{"order":null,"userErrors":[{"field":["input","reason"],"code":"REASON_REQUIRED"}]}}`,
			WantUserErrors: []string{"REASON_REQUIRED"}, WantEvents: none},
		{Name: "finance may not cancel", As: ordFinance, Query: orderCancelDoc, Variables: in("id", w.ids["#1002"], "reason", "fraud"),
			WantErrorCode: "FORBIDDEN", WantEvents: none},
		{Name: "staff cancel a paid order", As: ordClerk, Query: orderCancelDoc, Variables: in("id", w.ids["#1005"], "reason", "fraud"),
			WantUserErrors: []string{order.CodePaymentNotPending}, WantEvents: none},
		{Name: "alice cancels bob's", As: ordAlice, Query: orderCancelDoc, Variables: in("id", w.ids["#1002"]),
			WantUserErrors: []string{order.CodeOrderNotFound}, WantEvents: none},
		{Name: "bob cancels his paid order", As: ordBob, Query: orderCancelDoc, Variables: in("id", w.ids["#1005"]),
			WantUserErrors: []string{order.CodePaymentNotPending}, WantEvents: none},
		{Name: "a guest names nothing", As: ordGuest, Query: orderCancelDoc, Variables: in("reason", "why not"),
			WantData:       `{"orderCancel":{"order":null,"userErrors":[{"field":["input","id"],"code":"REQUIRED"}]}}`,
			WantUserErrors: []string{order.CodeRequired}, WantEvents: none},
		{Name: "a guest by id only", As: ordGuest, Query: orderCancelDoc, Variables: in("id", w.ids["#1003"]),
			WantUserErrors: []string{order.CodeOrderNotFound}, WantEvents: none},
		{Name: "a guest with a wrong token", As: ordGuest, Query: orderCancelDoc, Variables: in("token", w.token+"x"),
			WantUserErrors: []string{order.CodeOrderNotFound}, WantEvents: none},
		{Name: "a guest's token with another id", As: ordGuest, Query: orderCancelDoc, Variables: in("token", w.token, "id", w.ids["#1004"]),
			WantUserErrors: []string{order.CodeOrderNotFound}, WantEvents: none},
		{Name: "bob cancels his unpaid order", As: ordBob, Query: orderCancelDoc, Variables: in("id", w.ids["#1002"], "reason", "ordered twice"),
			WantData: cancelled("#1002"), WantEvents: []string{order.SubjectCancelled, catalog.SubjectStockMoved}},
		{Name: "bob cancels it again", As: ordBob, Query: orderCancelDoc, Variables: in("id", w.ids["#1002"]),
			WantUserErrors: []string{order.CodeNotOpen}, WantEvents: none},
		{Name: "a guest cancels by token", As: ordGuest, Query: orderCancelDoc, Variables: in("token", w.token),
			WantData: cancelled("#1003"), WantEvents: []string{order.SubjectCancelled, catalog.SubjectStockMoved}},
		{Name: "the guest reads the cancellation", As: ordGuest, Query: orderByTokenDoc, Variables: vars("token", w.token),
			WantData: `{"orderByToken":{"number":"#1003","status":"CANCELLED","customerId":null,"lines":[{"sku":"TEA","quantity":2}],"timeline":[{"kind":"PLACED"},{"kind":"STATUS"}]}}`},
		{Name: "staff cancel with a reason", As: ordOwner, Query: orderCancelDoc, Variables: in("id", w.ids["#1004"], "reason", "address does not exist"),
			WantData: cancelled("#1004"), WantEvents: []string{order.SubjectCancelled, catalog.SubjectStockMoved}},
		{Name: "the reasons in the timeline", As: ordBob, Query: orderTimelineDoc, Variables: vars("id", w.ids["#1002"]),
			WantData: `{"order":{"timeline":[
				{"kind":"PLACED","from":null,"to":"OPEN","actorKind":"CUSTOMER","actorId":"cus_bob","reason":null,"visibleToBuyer":true},
				{"kind":"STATUS","from":"OPEN","to":"CANCELLED","actorKind":"CUSTOMER","actorId":"cus_bob","reason":"ordered twice","visibleToBuyer":true}],
				"notes":[]}}`},
		{Name: "cancelled orders", As: ordOwner, Query: ordersDoc, Variables: vars("filter", vars("status", "CANCELLED")),
			WantData: numbers("orders", "#1004", "#1003", "#1002")},
	})
}

// claim: a buyer with a verified address takes the guest orders placed
// with it; an unverified one and anyone but a buyer get a userError.
func (w *orderWorld) claim(t *testing.T) {
	none := []string{}
	testkit.Run(t, w.ta, []testkit.Scenario{
		{Name: "bob's address is not verified", As: ordBob, Query: claimDoc,
			WantData:       `{"customerClaimGuestOrders":{"claimedCount":0,"userErrors":[{"field":null,"code":"EMAIL_NOT_VERIFIED"}]}}`,
			WantUserErrors: []string{order.CodeEmailNotVerified}, WantEvents: none},
		{Name: "a guest is not a buyer", As: ordGuest, Query: claimDoc,
			WantUserErrors: []string{"NOT_A_CUSTOMER"}, WantEvents: none},
		{Name: "staff are not buyers", As: ordClerk, Query: claimDoc,
			WantUserErrors: []string{"NOT_A_CUSTOMER"}, WantEvents: none},
		{Name: "finance may not", As: ordFinance, Query: claimDoc, WantErrorCode: "FORBIDDEN", WantEvents: none},
		{Name: "alice claims", As: ordAlice, Query: claimDoc,
			WantData: `{"customerClaimGuestOrders":{"claimedCount":1,"userErrors":[]}}`, WantEvents: none},
		{Name: "alice claims again", As: ordAlice, Query: claimDoc,
			WantData: `{"customerClaimGuestOrders":{"claimedCount":0,"userErrors":[]}}`},
		{Name: "alice's orders now", As: ordAlice, Query: myOrdersDoc, WantData: numbers("myOrders", "#1004", "#1001")},
		{Name: "alice reads the claimed order", As: ordAlice, Query: `query($id: ID!) { order(id: $id) { customerId timeline { kind actorKind } } }`,
			Variables: vars("id", w.ids["#1004"]),
			WantData: `{"order":{"customerId":"cus_alice","timeline":[{"kind":"PLACED","actorKind":"ANONYMOUS"},
				{"kind":"STATUS","actorKind":"STAFF"},{"kind":"CLAIM","actorKind":"CUSTOMER"}]}}`},
	})
}
