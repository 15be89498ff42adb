package payment_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// owner is the shop's owner, who changes the settings.
func owner() context.Context { return as(authz.KindStaff, "stf_owner", authz.RoleOwner) }

// A return URL sends the buyer back to the shop: its public origin, or a
// storefront origin the owner listed. Anything else is refused before an
// attempt is recorded, so that the shop's gateway pages cannot be made to
// send buyers elsewhere (an open redirect).
func TestReturnURLIsTheShops(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		create := func(ctx context.Context, o placed, returnURL string) (*payment.Attempt, error) {
			in := payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: returnURL}
			if authz.SubjectFrom(ctx).Kind == authz.KindStaff {
				in = payment.CreateInput{OrderID: o.id, GatewayID: fakeID, ReturnURL: returnURL}
			}
			return f.svc.Create(ctx, in)
		}
		refused := []struct{ name, url string }{
			{"another site", "https://evil.example/phish"},
			{"a look-alike host", "https://shop.test.evil.example/r"},
			{"credentials before another host", "https://shop.test@evil.example/r"},
			{"the shop's host over another scheme", "http://shop.test/r"},
			{"the shop's host on another port", "https://shop.test:8443/r"},
			{"a storefront origin not listed yet", "https://headless.example/thanks"},
		}
		for _, c := range refused {
			for _, ctx := range []context.Context{guest(), staff("finance")} {
				o := f.place(t, 1)
				a, err := create(ctx, o, c.url)
				all := errs.All(err)
				if len(all) != 1 || all[0].Code != payment.CodeReturnURLNotAllowed || strings.Join(all[0].Field, ".") != "returnUrl" || a != nil {
					t.Errorf("%s as %s: %+v, %v; want %s on returnUrl", c.name, authz.SubjectFrom(ctx).Kind, a, err, payment.CodeReturnURLNotAllowed)
				}
				if err != nil && strings.Contains(err.Error(), "evil") {
					t.Errorf("%s: the refusal quotes the URL: %v", c.name, err)
				}
			}
		}
		if gw.calls["create"] != 0 || f.count(t, "SELECT COUNT(*) FROM payment_attempts") != 0 {
			t.Fatalf("refused return URLs reached the gateway (%d calls) or left attempts", gw.calls["create"])
		}
		for _, u := range []string{"https://shop.test/orders/1/status?token=t", "HTTPS://SHOP.test:443/r", ""} {
			if _, err := create(guest(), f.place(t, 1), u); err != nil {
				t.Errorf("the shop's own %q: %v", u, err)
			}
		}

		// The owner lists a headless storefront: its origin is the shop's too.
		if _, err := f.shop.Update(owner(), shop.UpdateSettingsInput{StorefrontOrigins: &[]string{"https://headless.example"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := create(guest(), f.place(t, 1), "https://headless.example/thanks"); err != nil {
			t.Errorf("a listed storefront origin: %v", err)
		}
		if _, err := create(guest(), f.place(t, 1), "https://evil.example/phish"); codeOf(err) != payment.CodeReturnURLNotAllowed {
			t.Errorf("another site beside a listed origin: %v", err)
		}
	})
}

func TestNewServiceRefusesAPublicURLThatIsNotOne(t *testing.T) {
	db := storetest.NewSQLite(t)
	keys, err := idempotency.NewKeys(db, idempotency.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"shop.example", "/shop", "ftp://shop.example"} {
		_, err := payment.NewService(db, payment.Options{Authz: authz.AllowAll{}, Outbox: events.NewOutbox(db), Orders: app.PaymentOrders{},
			Gateways: &gatewaySet{}, Settings: fixedSettings{}, Keys: keys, PublicURL: u, Logger: slog.New(slog.DiscardHandler)})
		if err == nil {
			t.Errorf("PublicURL %q: want an error", u)
		}
	}
}

type fixedSettings struct{}

func (fixedSettings) Settings(context.Context) (*shop.Settings, error) { return &shop.Settings{}, nil }

// Whether a payment's money is held for staff is the merchant's decision:
// the shop's capture mode for buyers' payments, whatever a buyer sends;
// staff and API keys may still hold one payment's money.
func TestCaptureModeIsTheShops(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		buyerOrder := func(t *testing.T) (context.Context, payment.CreateInput) {
			o := f.placeFor(t, 1, "cus_capture")
			return as(authz.KindCustomer, "cus_capture", authz.RoleCustomer), payment.CreateInput{OrderID: o.id, GatewayID: fakeID}
		}
		cases := []struct {
			name   string
			mode   shop.CaptureMode
			caller func(t *testing.T) (context.Context, payment.CreateInput)
			manual bool
			want   payment.CaptureMethod
		}{
			{"a guest asking to hold the money", shop.CaptureAutomatic, func(t *testing.T) (context.Context, payment.CreateInput) {
				o := f.place(t, 1)
				return guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID}
			}, true, payment.CaptureAutomatic},
			{"a signed-in buyer asking to hold the money", shop.CaptureAutomatic, buyerOrder, true, payment.CaptureAutomatic},
			{"a buyer in a shop that holds money", shop.CaptureManual, buyerOrder, false, payment.CaptureManual},
			{"a buyer asking for it in a shop that holds money", shop.CaptureManual, buyerOrder, true, payment.CaptureManual},
			{"staff holding one payment's money", shop.CaptureAutomatic, func(t *testing.T) (context.Context, payment.CreateInput) {
				o := f.place(t, 1)
				return staff("finance"), payment.CreateInput{OrderID: o.id, GatewayID: fakeID}
			}, true, payment.CaptureManual},
			{"staff in a shop that captures at once", shop.CaptureAutomatic, func(t *testing.T) (context.Context, payment.CreateInput) {
				o := f.place(t, 1)
				return staff("finance"), payment.CreateInput{OrderID: o.id, GatewayID: fakeID}
			}, false, payment.CaptureAutomatic},
		}
		for _, c := range cases {
			mode := c.mode
			if _, err := f.shop.Update(owner(), shop.UpdateSettingsInput{PaymentCaptureMode: &mode}); err != nil {
				t.Fatal(err)
			}
			ctx, in := c.caller(t)
			in.ManualCapture = c.manual
			a, err := f.svc.Create(ctx, in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if a.CaptureMethod != c.want || gw.last().CaptureMethod != c.want {
				t.Errorf("%s: attempt %s, gateway asked %s; want %s", c.name, a.CaptureMethod, gw.last().CaptureMethod, c.want)
			}
		}
	})
}

// A buyer's idempotency keys are theirs: another buyer sending the same
// key starts their own payment and learns nothing; the same buyer sending
// it again with another request (another language too) is refused; a
// retry answers the first attempt. Staff share the shop's keys.
func TestCreateKeysAreTheCallers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		const key = "pay-predictable"
		guestA, guestB := f.place(t, 1), f.place(t, 1)
		alice, bob := f.placeFor(t, 1, "cus_alice"), f.placeFor(t, 1, "cus_bob")
		asAlice, asBob := as(authz.KindCustomer, "cus_alice", authz.RoleCustomer), as(authz.KindCustomer, "cus_bob", authz.RoleCustomer)
		in := func(o placed, signedIn bool) payment.CreateInput {
			in := payment.CreateInput{GatewayID: fakeID, ReturnURL: shopURL + "/r", Locale: "en", IdempotencyKey: key}
			if signedIn {
				in.OrderID = o.id
			} else {
				in.AccessToken = o.token
			}
			return in
		}
		first := map[string]string{}
		for _, c := range []struct {
			name string
			ctx  context.Context
			in   payment.CreateInput
		}{
			{"guest A", guest(), in(guestA, false)},
			{"guest B, A's key", guest(), in(guestB, false)},
			{"alice, the guests' key", asAlice, in(alice, true)},
			{"bob, alice's key", asBob, in(bob, true)},
		} {
			a, err := f.svc.Create(c.ctx, c.in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if a.OrderID != orderOf(c.in, guestA, guestB, alice, bob) {
				t.Fatalf("%s: answered attempt %s of order %s", c.name, a.ID, a.OrderID)
			}
			first[c.name] = a.ID
		}
		if gw.calls["create"] != 4 {
			t.Fatalf("%d gateway calls, want one per buyer", gw.calls["create"])
		}

		// Retries answer each buyer's own attempt.
		if a, err := f.svc.Create(guest(), in(guestB, false)); err != nil || a.ID != first["guest B, A's key"] {
			t.Fatalf("guest B's retry: %+v, %v", a, err)
		}
		if a, err := f.svc.Create(asBob, in(bob, true)); err != nil || a.ID != first["bob, alice's key"] {
			t.Fatalf("bob's retry: %+v, %v", a, err)
		}
		// The same buyer, another request: refused.
		other := in(alice, true)
		other.ReturnURL = shopURL + "/elsewhere"
		if _, err := f.svc.Create(asAlice, other); codeOf(err) != idempotency.CodeKeyReused {
			t.Fatalf("alice, her key with another return URL: %v", err)
		}
		// The language is part of the request: the gateway's pages are in it.
		zh := in(guestA, false)
		zh.Locale = "zh-CN"
		if _, err := f.svc.Create(guest(), zh); codeOf(err) != idempotency.CodeKeyReused {
			t.Fatalf("guest A, the key in another language: %v", err)
		}
		// Staff share the shop's keys: one staff member's key is another's.
		o := f.place(t, 1)
		sin := payment.CreateInput{OrderID: o.id, GatewayID: fakeID, IdempotencyKey: key}
		a, err := f.svc.Create(staff("finance"), sin)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := f.svc.Create(as(authz.KindStaff, "stf_other", "finance"), sin); err != nil || again.ID != a.ID {
			t.Fatalf("another staff member's retry: %+v, %v", again, err)
		}
		if gw.calls["create"] != 5 {
			t.Fatalf("%d gateway calls, want 5", gw.calls["create"])
		}
	})
}

// orderOf is the order in names, among os.
func orderOf(in payment.CreateInput, os ...placed) string {
	for _, o := range os {
		if in.OrderID == o.id || (in.AccessToken != "" && in.AccessToken == o.token) {
			return o.id
		}
	}
	return ""
}

// last is the gateway's last CreatePayment request.
func (g *fakeGateway) last() payment.CreateRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastCreate
}
