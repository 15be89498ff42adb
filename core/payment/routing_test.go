package payment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

const (
	gwA = "payment.alpha"
	gwB = "payment.beta"
	gwC = "payment.gamma"
	gwD = "payment.disabled"
)

// withDisabled is the gateways port of set, with gwD installed but
// disabled, as core/plugin answers.
type withDisabled struct{ *gatewaySet }

func (w withDisabled) Gateway(ctx context.Context, id string) (payment.Gateway, error) {
	if id == gwD {
		return nil, errs.Unavailable("PLUGIN_DISABLED", "plugin "+id+" is disabled")
	}
	return w.gatewaySet.Gateway(ctx, id)
}

func i64(n int64) *int64 { return &n }

// routes sets method's routes as the owner, failing the test on error.
func (f *fixture) routes(t *testing.T, method string, rs ...payment.RouteInput) []*payment.Route {
	t.Helper()
	out, err := f.svc.SetRoutes(staff("owner"), payment.SetRoutesInput{Method: method, Routes: rs})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) routeCount(t *testing.T) int {
	return f.count(t, "SELECT COUNT(*) FROM payment_routes")
}

func TestSetRoutesStoresAndReplaces(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		set := &gatewaySet{m: map[string]payment.Gateway{}}
		for _, id := range []string{gwA, gwB} {
			set.m[id] = newFake(id)
		}
		f := newFixtureWith(t, db, withDisabled{set})
		got := f.routes(t, "card",
			payment.RouteInput{GatewayID: gwA, Currency: "cny", Country: "cn", MinAmount: i64(0), MaxAmount: i64(100_00)},
			payment.RouteInput{GatewayID: gwB})
		if len(got) != 2 || got[0].GatewayID != gwA || got[0].Currency != "CNY" || got[0].Country != "CN" || *got[0].MaxAmount != 100_00 ||
			got[1].GatewayID != gwB || got[1].Position != 1 || got[1].MinAmount != nil || got[0].CreatedBy != "stf_owner" {
			t.Fatalf("routes %+v %+v", got[0], got[1])
		}
		f.routes(t, "alipay", payment.RouteInput{GatewayID: gwB})
		// Finance may set them too; the method's routes are replaced as a whole.
		if _, err := f.svc.SetRoutes(staff("finance"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwB}}}); err != nil {
			t.Fatal(err)
		}
		all, err := f.svc.Routes(staff("support"))
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].Method != "alipay" || all[1].Method != "card" || all[1].GatewayID != gwB || all[1].Position != 0 {
			t.Fatalf("all routes %+v", all)
		}
		// No routes remove the method.
		f.routes(t, "alipay")
		if n := f.routeCount(t); n != 1 {
			t.Fatalf("%d routes left", n)
		}

		long := make([]payment.RouteInput, payment.MaxRoutes+1)
		for i := range long {
			long[i] = payment.RouteInput{GatewayID: gwA, MinAmount: i64(int64(i))}
		}
		cases := []struct {
			name string
			ctx  context.Context
			in   payment.SetRoutesInput
			want string
		}{
			{"a manager", staff("manager"), payment.SetRoutesInput{Method: "card"}, "FORBIDDEN"},
			{"support", staff("support"), payment.SetRoutesInput{Method: "card"}, "FORBIDDEN"},
			{"a buyer", as("customer", "cus_1", "customer"), payment.SetRoutesInput{Method: "card"}, "FORBIDDEN"},
			{"a guest", guest(), payment.SetRoutesInput{Method: "card"}, "UNAUTHENTICATED"},
			{"no method", staff("owner"), payment.SetRoutesInput{Routes: []payment.RouteInput{{GatewayID: gwA}}}, payment.CodeInvalidMethod},
			{"a method with a control character", staff("owner"), payment.SetRoutesInput{Method: "card\x00", Routes: []payment.RouteInput{{GatewayID: gwA}}}, payment.CodeInvalidMethod},
			{"an upper case method", staff("owner"), payment.SetRoutesInput{Method: "Card"}, payment.CodeInvalidMethod},
			{"a huge method", staff("owner"), payment.SetRoutesInput{Method: strings.Repeat("a", 10_000)}, payment.CodeInvalidMethod},
			{"too many routes", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: long}, payment.CodeTooManyRoutes},
			{"no gateway", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{}}}, payment.CodeRequired},
			{"an unknown gateway", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: "payment.nope"}}}, payment.CodeUnknownGateway},
			{"a gateway id with a control character", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: "payment.a\x1b"}}}, payment.CodeUnknownGateway},
			{"a disabled gateway", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwD}}}, payment.CodeGatewayDisabled},
			{"a bad currency", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwA, Currency: "XXZ"}}}, payment.CodeInvalidCurrency},
			{"a bad country", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwA, Country: "ZZ"}}}, payment.CodeInvalidCountry},
			{"min above max", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwA, Currency: "CNY", MinAmount: i64(10), MaxAmount: i64(5)}}}, payment.CodeInvalidAmountRange},
			{"a negative bound", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwA, Currency: "CNY", MaxAmount: i64(-1)}}}, payment.CodeInvalidAmountRange},
			{"a huge bound", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwA, Currency: "CNY", MinAmount: i64(1 << 62)}}}, payment.CodeInvalidAmountRange},
			{"a range without a currency", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwA, MaxAmount: i64(100)}}}, payment.CodeRequired},
			{"the same route twice", staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{{GatewayID: gwA, Currency: "CNY"}, {GatewayID: gwA, Currency: "cny"}}}, payment.CodeDuplicateRoute},
		}
		for _, c := range cases {
			if _, err := f.svc.SetRoutes(c.ctx, c.in); codeOf(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		// Every refusal changed nothing.
		if all2, _ := f.svc.Routes(staff("owner")); len(all2) != 1 || all2[0].ID != all[1].ID {
			t.Fatalf("a refusal changed the routes: %+v", all2)
		}
		// Every problem at once, with paths relative to the input, one
		// element a step.
		_, err = f.svc.SetRoutes(staff("owner"), payment.SetRoutesInput{Method: "card", Routes: []payment.RouteInput{
			{GatewayID: gwA, Currency: "XXZ"}, {GatewayID: "payment.nope", Country: "ZZ"}, {GatewayID: gwD}}})
		var fields []string
		for _, e := range errs.All(err) {
			fields = append(fields, strings.Join(e.Field, "/")+":"+e.Code)
		}
		if want := "routes/0/currency:INVALID_CURRENCY routes/1/gatewayId:UNKNOWN_GATEWAY routes/1/country:INVALID_COUNTRY routes/2/gatewayId:GATEWAY_DISABLED"; strings.Join(fields, " ") != want {
			t.Fatalf("problems %v, want %s", fields, want)
		}
		if _, err := f.svc.Routes(as("customer", "cus_1", "customer")); codeOf(err) != "FORBIDDEN" {
			t.Fatalf("a buyer read the routes: %v", err)
		}
		// Methods beyond the limit are refused.
		for i := range payment.MaxRoutedMethods - 1 {
			f.routes(t, fmt.Sprintf("m%d", i), payment.RouteInput{GatewayID: gwA})
		}
		if _, err := f.svc.SetRoutes(staff("owner"), payment.SetRoutesInput{Method: "onemore", Routes: []payment.RouteInput{{GatewayID: gwA}}}); codeOf(err) != payment.CodeTooManyRoutes {
			t.Fatalf("method %d: %v", payment.MaxRoutedMethods+1, err)
		}
	})
}

// routedFixture has three fake gateways and routes card to alpha then
// beta, and alipay to gamma.
func routedFixture(t *testing.T, db *store.DB) (*fixture, *fakeGateway, *fakeGateway, *fakeGateway) {
	f := newFixture(t, db)
	a, b, c := f.freshGateways()
	f.routes(t, "card", payment.RouteInput{GatewayID: gwA}, payment.RouteInput{GatewayID: gwB})
	f.routes(t, "alipay", payment.RouteInput{GatewayID: gwC, Currency: "CNY"})
	return f, a, b, c
}

// freshGateways puts new fakes alpha, beta and gamma in place, for a
// subtest that breaks them its own way.
func (f *fixture) freshGateways() (*fakeGateway, *fakeGateway, *fakeGateway) {
	a, b, c := newFake(gwA), newFake(gwB), newFake(gwC)
	f.gateways.mu.Lock()
	defer f.gateways.mu.Unlock()
	for _, g := range []*fakeGateway{a, b, c} {
		f.gateways.m[g.id] = g
	}
	return a, b, c
}

func (f *fixture) orderAttempts(t *testing.T, orderID string) []*payment.Attempt {
	t.Helper()
	as, err := f.svc.AttemptsOf(staff("finance"), []string{orderID})
	if err != nil {
		t.Fatal(err)
	}
	return as[orderID]
}

// A gateway down before the call is failed over once, in order; the
// attempts stay on the order, the second naming the first.
func TestCreateByMethodFailsOver(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f, _, _, _ := routedFixture(t, db)
		for _, c := range []struct {
			name   string
			break_ func(a *fakeGateway)
			code   string
		}{
			{"plugin down before the call", func(a *fakeGateway) {
				a.createErr = errs.Unavailable("PLUGIN_UNAVAILABLE", "plugin payment.alpha is not running")
			}, "gateway_unavailable"},
			{"the gateway refused the request", func(a *fakeGateway) {
				a.create, a.decline = payment.StatusFailed, "currency_not_supported"
			}, "currency_not_supported"},
		} {
			t.Run(c.name, func(t *testing.T) {
				a, b, _ := f.freshGateways()
				a.set(c.break_)
				o := f.place(t, 1)
				got, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, Method: "card", ReturnURL: "https://shop.test/r", IdempotencyKey: "k-" + o.id})
				if err != nil {
					t.Fatal(err)
				}
				if got.GatewayID != gwB || got.State != payment.StatePending || got.Method != "card" || got.FailoverOf == nil {
					t.Fatalf("attempt %+v", got)
				}
				if a.calls["create"] != 1 || b.calls["create"] != 1 {
					t.Fatalf("calls alpha %d beta %d", a.calls["create"], b.calls["create"])
				}
				atts := f.orderAttempts(t, o.id)
				if len(atts) != 2 || atts[0].GatewayID != gwA || atts[0].State != payment.StateFailed || atts[0].DeclineCode != c.code ||
					*got.FailoverOf != atts[0].ID || atts[0].FailoverOf != nil || atts[0].Method != "card" {
					t.Fatalf("order attempts %+v", atts)
				}
				if n := f.count(t, "SELECT COUNT(*) FROM payment_attempt_timeline WHERE attempt_id = ? AND to_state = 'FAILED'", atts[0].ID); n != 1 {
					t.Fatalf("%d FAILED moves on the timeline", n)
				}
				// A repeat answers the chain's last attempt and asks no one.
				again, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, Method: "card", ReturnURL: "https://shop.test/r", IdempotencyKey: "k-" + o.id})
				if err != nil || again.ID != got.ID || a.calls["create"] != 1 || b.calls["create"] != 1 {
					t.Fatalf("repeat %+v, %v; calls %d %d", again, err, a.calls["create"], b.calls["create"])
				}
				// Beta's money arrives: the order is paid once.
				if _, err := f.svc.ApplyWebhook(context.Background(), gwB, payment.WebhookRequest{Method: "POST", Body: body(t, "ok", succeeded(got, "evt_"+got.ID))}); err != nil {
					t.Fatal(err)
				}
				if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
					t.Fatalf("payment status %s", ps)
				}
			})
		}
	})
}

// Never after an outcome that may move money or that the buyer gave.
func TestCreateByMethodNeverFailsOverWhenMoneyMayMove(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f, _, _, _ := routedFixture(t, db)
		for _, c := range []struct {
			name   string
			break_ func(a *fakeGateway)
			state  payment.State
		}{
			{"an unknown outcome", func(a *fakeGateway) { a.createErr = fmt.Errorf("deadline: %w", payment.ErrOutcomeUnknown) }, payment.StateUnknown},
			{"a pending answer", func(a *fakeGateway) { a.create = payment.StatusPending }, payment.StatePending},
			{"a buyer action asked", func(a *fakeGateway) {}, payment.StatePending},
			{"the buyer's card declined", func(a *fakeGateway) { a.create = payment.StatusFailed }, payment.StateFailed},
			{"the gateway's own unknown", func(a *fakeGateway) { a.create = payment.StatusUnknown }, payment.StateUnknown},
		} {
			t.Run(c.name, func(t *testing.T) {
				a, b, _ := f.freshGateways()
				a.set(c.break_)
				o := f.place(t, 1)
				got, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, Method: "card"})
				if err != nil {
					t.Fatal(err)
				}
				if got.GatewayID != gwA || got.State != c.state || b.calls["create"] != 0 || len(f.orderAttempts(t, o.id)) != 1 {
					t.Fatalf("attempt %+v, beta asked %d times", got, b.calls["create"])
				}
			})
		}
	})
}

// Every gateway down: each tried once, in order, then the plugin's error.
func TestCreateByMethodAllDown(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f, a, b, _ := routedFixture(t, db)
		down := errs.Unavailable("PLUGIN_UNAVAILABLE", "not running")
		a.set(func(g *fakeGateway) { g.createErr = down })
		b.set(func(g *fakeGateway) { g.createErr = down })
		o := f.place(t, 1)
		if _, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, Method: "card"}); codeOf(err) != "PLUGIN_UNAVAILABLE" {
			t.Fatalf("all down: %v", err)
		}
		atts := f.orderAttempts(t, o.id)
		if len(atts) != 2 || atts[0].GatewayID != gwA || atts[1].GatewayID != gwB || atts[1].State != payment.StateFailed ||
			*atts[1].FailoverOf != atts[0].ID || a.calls["create"] != 1 || b.calls["create"] != 1 {
			t.Fatalf("attempts %+v", atts)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PENDING" && ps != "FAILED" {
			t.Fatalf("payment status %s", ps)
		}
		// Back up: the buyer may try again.
		a.set(func(g *fakeGateway) { g.createErr = nil })
		if got, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, Method: "card"}); err != nil || got.GatewayID != gwA {
			t.Fatalf("retry %+v, %v", got, err)
		}
	})
}

// Routes narrow by currency, shipping country and amount; a method
// without a matching route is refused; gateway and method are exclusive.
func TestRoutesMatchTheOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f, a, _, c := routedFixture(t, db)
		o := f.place(t, 1) // 20.00 CNY to CN
		f.routes(t, "card",
			payment.RouteInput{GatewayID: gwA, Currency: "EUR"},
			payment.RouteInput{GatewayID: gwC, Country: "DE"},
			payment.RouteInput{GatewayID: gwC, Currency: "CNY", MaxAmount: i64(10_00)},
			payment.RouteInput{GatewayID: gwB, Currency: "CNY", Country: "CN", MinAmount: i64(20_00), MaxAmount: i64(20_00)},
			payment.RouteInput{GatewayID: gwA})
		got, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, Method: "card"})
		if err != nil || got.GatewayID != gwB {
			t.Fatalf("routed to %+v, %v", got, err)
		}
		if a.calls["create"]+c.calls["create"] != 0 {
			t.Fatal("a gateway whose route does not match was asked")
		}
		o2 := f.place(t, 1)
		f.routes(t, "wechat", payment.RouteInput{GatewayID: gwC, Currency: "USD"})
		cases := []struct {
			name string
			in   payment.CreateInput
			want string
		}{
			{"no matching route", payment.CreateInput{AccessToken: o2.token, Method: "wechat"}, payment.CodeNoRoute},
			{"a method nobody routes", payment.CreateInput{AccessToken: o2.token, Method: "paypal"}, payment.CodeNoRoute},
			{"a bad method", payment.CreateInput{AccessToken: o2.token, Method: "card\x00"}, payment.CodeInvalidMethod},
			{"gateway and method", payment.CreateInput{AccessToken: o2.token, Method: "card", GatewayID: gwA}, payment.CodeGatewayAndMethod},
			{"neither", payment.CreateInput{AccessToken: o2.token}, payment.CodeRequired},
		}
		for _, c := range cases {
			if _, err := f.svc.Create(guest(), c.in); codeOf(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		if n := len(f.orderAttempts(t, o2.id)); n != 0 {
			t.Fatalf("refusals made %d attempts", n)
		}
		// A gateway named directly still works, routed or not.
		if got, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o2.token, GatewayID: gwA}); err != nil || got.GatewayID != gwA || got.Method != "" {
			t.Fatalf("by gateway %+v, %v", got, err)
		}
	})
}

// The storefront lists a routed method once, with the gateway it goes to
// first, and gateways no route names by themselves.
func TestAvailableMethodsPerRouting(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a, b, c := newFake(gwA), newFake(gwB, payment.CapActionQRCode), newFake(gwC)
		d := newFake("payment.delta", payment.CapActionInstructions)
		f := newFixture(t, db, a, b, c, d)
		f.routes(t, "card", payment.RouteInput{GatewayID: gwA, Currency: "USD"}, payment.RouteInput{GatewayID: gwB})
		f.routes(t, "alipay", payment.RouteInput{GatewayID: gwC, Country: "DE"})
		o := f.place(t, 1)
		ms, err := f.svc.AvailableMethods(guest(), "", o.token)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, fmt.Sprintf("%s>%s%v/%v", m.Method, m.GatewayID, m.Actions, m.ManualCapture))
		}
		// card goes to beta for a CNY order; alipay matches nothing here;
		// alpha and gamma are routed, so not listed alone.
		if want := "card>payment.beta[QR_CODE]/false >payment.delta[INSTRUCTIONS]/false"; strings.Join(got, " ") != want {
			t.Fatalf("methods %v, want %s", got, want)
		}
	})
}
