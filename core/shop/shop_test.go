package shop_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// denyAll refuses everything, as the enforcer refuses a buyer.
type denyAll struct{}

func (denyAll) Can(context.Context, authz.Object, authz.Action) error {
	return errs.Forbidden("FORBIDDEN", "no")
}

func newService(t *testing.T, db *store.DB, az authz.Authorizer, c clock.Clock) (*shop.Service, *eventstest.Outbox) {
	t.Helper()
	out := &eventstest.Outbox{}
	svc, err := shop.NewService(db, shop.Options{Authz: az, Outbox: out, Clock: c, DefaultCurrency: money.CNY})
	if err != nil {
		t.Fatal(err)
	}
	return svc, out
}

func ptr[T any](v T) *T { return &v }

// currencies compares money.Currency values, whose fields are unexported.
var currencies = cmp.Comparer(func(a, b money.Currency) bool { return a == b })

func TestNewServiceNeedsCollaborators(t *testing.T) {
	db := storetest.NewSQLite(t)
	if _, err := shop.NewService(db, shop.Options{Outbox: &eventstest.Outbox{}}); err == nil {
		t.Error("no authorizer: want an error")
	}
	if _, err := shop.NewService(db, shop.Options{Authz: authz.AllowAll{}}); err == nil {
		t.Error("no outbox: want an error")
	}
}

func TestSettings(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := clock.NewFake(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
		svc, out := newService(t, db, authz.AllowAll{}, fake)

		// Defaults, readable without any permission.
		guest, _ := newService(t, db, denyAll{}, fake)
		got, err := guest.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := &shop.Settings{Currencies: []money.Currency{money.CNY}, PaymentDeadline: 30 * time.Minute,
			ReminderLead: 10 * time.Minute, OrderNumberPrefix: "#", LineQuantityLimit: 100, UnpaidOrdersPerBuyer: 10, PaymentCaptureMode: shop.CaptureAutomatic}
		if diff := cmp.Diff(want, got, currencies); diff != "" {
			t.Fatalf("defaults (-want +got):\n%s", diff)
		}
		got.Currencies[0] = money.USD // the caller's copy
		if again, _ := guest.Settings(ctx); again.DefaultCurrency() != money.CNY {
			t.Fatal("changing the returned settings changed the cache")
		}

		upd, err := svc.Update(ctx, shop.UpdateSettingsInput{
			Currencies:        &[]string{"usd", "CNY"},
			PaymentDeadline:   ptr(2 * time.Hour),
			ReminderLead:      ptr(time.Hour),
			OrderNumberPrefix: ptr("KS-"),
			LineQuantityLimit: ptr(int64(10)),
			PricesIncludeTax:  ptr(true),

			UnpaidOrdersPerBuyer: ptr(int64(0)),

			PaymentCaptureMode: ptr(shop.CaptureManual),
			StorefrontOrigins:  &[]string{" HTTPS://Shop.Example.com:443/ ", "http://localhost:3000", "https://[::1]:8443"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want = &shop.Settings{Currencies: []money.Currency{money.USD, money.CNY}, PaymentDeadline: 2 * time.Hour,
			ReminderLead: time.Hour, OrderNumberPrefix: "KS-", LineQuantityLimit: 10, PricesIncludeTax: true,
			PaymentCaptureMode: shop.CaptureManual,
			StorefrontOrigins:  []string{"https://shop.example.com", "http://localhost:3000", "https://[::1]:8443"},
			UpdatedAt:          fake.Now()}
		if diff := cmp.Diff(want, upd, currencies); diff != "" {
			t.Fatalf("update (-want +got):\n%s", diff)
		}
		if got, _ := svc.Settings(ctx); !cmp.Equal(want, got, currencies) {
			t.Fatalf("after the update the service reads %+v", got)
		}
		if diff := cmp.Diff([]string{shop.SubjectSettingsUpdated}, out.Subjects()); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}

		// A partial update keeps the rest.
		if _, err := svc.Update(ctx, shop.UpdateSettingsInput{OrderNumberPrefix: ptr("")}); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Settings(ctx)
		want.OrderNumberPrefix = ""
		if diff := cmp.Diff(want, got, currencies); diff != "" {
			t.Fatalf("partial update (-want +got):\n%s", diff)
		}

		// An empty list of origins clears them.
		if _, err := svc.Update(ctx, shop.UpdateSettingsInput{StorefrontOrigins: &[]string{}, PaymentCaptureMode: ptr(shop.CaptureAutomatic)}); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Settings(ctx)
		want.StorefrontOrigins, want.PaymentCaptureMode = nil, shop.CaptureAutomatic
		if diff := cmp.Diff(want, got, currencies); diff != "" {
			t.Fatalf("partial update (-want +got):\n%s", diff)
		}
	})
}

func TestUpdateRefusesBadInput(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, out := newService(t, db, authz.AllowAll{}, nil)
		type problem struct{ Field, Code string }
		for _, c := range []struct {
			name string
			in   shop.UpdateSettingsInput
			want []problem
		}{
			{"no currency", shop.UpdateSettingsInput{Currencies: &[]string{}}, []problem{{"currencies", shop.CodeRequired}}},
			{"too many currencies, refused as a whole", shop.UpdateSettingsInput{Currencies: ptr(slices.Repeat([]string{"XYZ"}, shop.MaxCurrencies+1))},
				[]problem{{"currencies", shop.CodeTooMany}}},
			{"a huge currency code", shop.UpdateSettingsInput{Currencies: &[]string{strings.Repeat("X", 100000)}},
				[]problem{{"currencies.0", shop.CodeInvalidCurrency}}},
			{"bad and repeated currencies", shop.UpdateSettingsInput{Currencies: &[]string{"USD", "XYZ", "usd"}},
				[]problem{{"currencies.1", shop.CodeInvalidCurrency}, {"currencies.2", shop.CodeDuplicateCurrency}}},
			{"deadline too short", shop.UpdateSettingsInput{PaymentDeadline: ptr(4 * time.Minute)}, []problem{{"paymentDeadline", shop.CodeOutOfRange}}},
			{"deadline too long", shop.UpdateSettingsInput{PaymentDeadline: ptr(7*24*time.Hour + time.Second)}, []problem{{"paymentDeadline", shop.CodeOutOfRange}}},
			{"deadline not whole seconds", shop.UpdateSettingsInput{PaymentDeadline: ptr(time.Hour + time.Millisecond)}, []problem{{"paymentDeadline", shop.CodeInvalidDuration}}},
			{"deadline below the reminder", shop.UpdateSettingsInput{PaymentDeadline: ptr(10 * time.Minute)}, []problem{{"paymentDeadline", shop.CodeReminderAfterDeadline}}},
			{"reminder not before deadline", shop.UpdateSettingsInput{ReminderLead: ptr(30 * time.Minute)}, []problem{{"reminderLead", shop.CodeReminderAfterDeadline}}},
			{"reminder zero", shop.UpdateSettingsInput{ReminderLead: ptr(time.Duration(0))}, []problem{{"reminderLead", shop.CodeOutOfRange}}},
			{"prefix too long", shop.UpdateSettingsInput{OrderNumberPrefix: ptr("ABCDEFGHIJK")}, []problem{{"orderNumberPrefix", shop.CodeTooLong}}},
			{"prefix not printable", shop.UpdateSettingsInput{OrderNumberPrefix: ptr("A\tB")}, []problem{{"orderNumberPrefix", shop.CodeInvalidPrefix}}},
			{"limit zero", shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(0))}, []problem{{"lineQuantityLimit", shop.CodeOutOfRange}}},
			{"limit too high", shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(10001))}, []problem{{"lineQuantityLimit", shop.CodeOutOfRange}}},
			{"unpaid orders below zero", shop.UpdateSettingsInput{UnpaidOrdersPerBuyer: ptr(int64(-1))}, []problem{{"unpaidOrdersPerBuyer", shop.CodeOutOfRange}}},
			{"unpaid orders too many", shop.UpdateSettingsInput{UnpaidOrdersPerBuyer: ptr(int64(1001))}, []problem{{"unpaidOrdersPerBuyer", shop.CodeOutOfRange}}},
			{"several at once", shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(0)), OrderNumberPrefix: ptr("ABCDEFGHIJK")},
				[]problem{{"orderNumberPrefix", shop.CodeTooLong}, {"lineQuantityLimit", shop.CodeOutOfRange}}},
			{"a capture mode that is none", shop.UpdateSettingsInput{PaymentCaptureMode: ptr(shop.CaptureMode("LATER"))},
				[]problem{{"paymentCaptureMode", shop.CodeInvalidCaptureMode}}},
			{"storefront origins that are not origins", shop.UpdateSettingsInput{StorefrontOrigins: &[]string{
				"shop.example.com", "ftp://shop.example.com", "https://shop.example.com/path", "https://shop.example.com?x",
				"https://user@shop.example.com", "https://", "javascript:alert(1)", "https://shop.example.com#top",
				"https://shop.example.com\\@evil.example", "https://shop.example.com, https://evil.example", strings.Repeat("a", 300),
				"https://SHOP.example.com", "https://shop.example.com:443",
				"https://shop.example.com:99999", "https://*.example.com", "https://shop.example.com:0"}},
				[]problem{{"storefrontOrigins.0", shop.CodeInvalidOrigin}, {"storefrontOrigins.1", shop.CodeInvalidOrigin},
					{"storefrontOrigins.2", shop.CodeInvalidOrigin}, {"storefrontOrigins.3", shop.CodeInvalidOrigin},
					{"storefrontOrigins.4", shop.CodeInvalidOrigin}, {"storefrontOrigins.5", shop.CodeInvalidOrigin},
					{"storefrontOrigins.6", shop.CodeInvalidOrigin}, {"storefrontOrigins.7", shop.CodeInvalidOrigin},
					{"storefrontOrigins.8", shop.CodeInvalidOrigin}, {"storefrontOrigins.9", shop.CodeInvalidOrigin},
					{"storefrontOrigins.10", shop.CodeTooLong}, {"storefrontOrigins.12", shop.CodeDuplicateOrigin},
					{"storefrontOrigins.13", shop.CodeInvalidOrigin}, {"storefrontOrigins.14", shop.CodeInvalidOrigin},
					{"storefrontOrigins.15", shop.CodeInvalidOrigin}}},
			{"too many storefront origins, refused as a whole", shop.UpdateSettingsInput{StorefrontOrigins: ptr(slices.Repeat([]string{"https://a.example"}, shop.MaxStorefrontOrigins+1))},
				[]problem{{"storefrontOrigins", shop.CodeTooMany}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := svc.Update(ctx, c.in)
				if !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("err = %v, want invalid input", err)
				}
				var got []problem
				for _, e := range errs.All(err) {
					got = append(got, problem{joinField(e.Field), e.Code})
					if len(e.Message) > 200 {
						t.Errorf("%s: a message of %d bytes repeats the input", e.Code, len(e.Message))
					}
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
			})
		}
		if s, _ := svc.Settings(ctx); !s.UpdatedAt.IsZero() {
			t.Errorf("a refused update saved the settings: %+v", s)
		}
		if n := len(out.Events()); n != 0 {
			t.Errorf("refused updates emitted %d events", n)
		}
		// Bounds are inclusive.
		if _, err := svc.Update(ctx, shop.UpdateSettingsInput{PaymentDeadline: ptr(7 * 24 * time.Hour),
			OrderNumberPrefix: ptr("ABCDEFGHIJ"), LineQuantityLimit: ptr(int64(10000))}); err != nil {
			t.Errorf("upper bounds: %v", err)
		}
		if _, err := svc.Update(ctx, shop.UpdateSettingsInput{PaymentDeadline: ptr(5 * time.Minute),
			ReminderLead: ptr(4 * time.Minute), LineQuantityLimit: ptr(int64(1))}); err != nil {
			t.Errorf("lower bounds: %v", err)
		}
	})
}

func joinField(f []string) string {
	s := ""
	for i, p := range f {
		if i > 0 {
			s += "."
		}
		s += p
	}
	return s
}

func TestUpdateNeedsSettingsWrite(t *testing.T) {
	db := storetest.NewSQLite(t)
	svc, out := newService(t, db, denyAll{}, nil)
	if _, err := svc.Update(context.Background(), shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(5))}); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("err = %v, want forbidden", err)
	}
	if err := svc.CanReadPrivate(context.Background()); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("CanReadPrivate = %v, want forbidden", err)
	}
	if s, _ := svc.Settings(context.Background()); s.LineQuantityLimit != 100 || len(out.Events()) != 0 {
		t.Fatalf("a refused update changed something: %+v", s)
	}
}

// TestCache: another instance on the same database sees an update once
// its cache expired; the updating one at once; a rolled-back update
// changes nothing anywhere.
func TestCache(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := clock.NewFake(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
		a, _ := newService(t, db, authz.AllowAll{}, fake)
		b, _ := newService(t, db, authz.AllowAll{}, fake)
		if s, _ := b.Settings(ctx); s.LineQuantityLimit != 100 {
			t.Fatal(s)
		}
		if _, err := a.Update(ctx, shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(7))}); err != nil {
			t.Fatal(err)
		}
		if s, _ := a.Settings(ctx); s.LineQuantityLimit != 7 {
			t.Errorf("the updating instance reads %d", s.LineQuantityLimit)
		}
		if s, _ := b.Settings(ctx); s.LineQuantityLimit != 100 {
			t.Errorf("the other instance read the row within its cache time: %d", s.LineQuantityLimit)
		}
		fake.Advance(shop.DefaultCacheFor)
		if s, _ := b.Settings(ctx); s.LineQuantityLimit != 7 {
			t.Errorf("the other instance reads %d after its cache expired", s.LineQuantityLimit)
		}

		// Without a cache, every read sees the row.
		uncached, err := shop.NewService(db, shop.Options{Authz: authz.AllowAll{}, Outbox: &eventstest.Outbox{}, Clock: fake, CacheFor: -1})
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := uncached.Settings(ctx); s.LineQuantityLimit != 7 {
			t.Fatalf("uncached reads %d", s.LineQuantityLimit)
		}
		if _, err := a.Update(ctx, shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(8))}); err != nil {
			t.Fatal(err)
		}
		if s, _ := uncached.Settings(ctx); s.LineQuantityLimit != 8 {
			t.Errorf("uncached reads %d after another instance's update", s.LineQuantityLimit)
		}
		if _, err := a.Update(ctx, shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(7))}); err != nil {
			t.Fatal(err)
		}

		boom := errors.New("boom")
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			if _, err := a.Update(ctx, shop.UpdateSettingsInput{LineQuantityLimit: ptr(int64(9))}); err != nil {
				return err
			}
			if s, _ := a.Settings(ctx); s.LineQuantityLimit != 9 {
				t.Errorf("inside the transaction: %d", s.LineQuantityLimit)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if s, _ := a.Settings(ctx); s.LineQuantityLimit != 7 {
			t.Errorf("after a rollback: %d", s.LineQuantityLimit)
		}
	})
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url, want string
		ok        bool
	}{
		{"https://shop.example/orders/1?token=x", "https://shop.example", true},
		{"HTTPS://Shop.Example:443/", "https://shop.example", true},
		{"http://shop.example:80", "http://shop.example", true},
		{"http://shop.example:443", "http://shop.example:443", true},
		{"https://shop.example:8443/r", "https://shop.example:8443", true},
		{"http://[::1]:8080/", "http://[::1]:8080", true},
		{"https://shop.example@evil.example/", "https://evil.example", true},
		{"https://shop.example.evil.example/", "https://shop.example.evil.example", true},
		{"/orders/1", "", false},
		{"//evil.example/", "", false},
		{"http:evil.example", "", false},
		{"javascript:alert(1)", "", false},
		{"https://:443/", "", false},
		{"ftp://shop.example/", "", false},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if got, ok := shop.Origin(u); got != c.want || ok != c.ok {
			t.Errorf("Origin(%s) = %q, %v; want %q, %v", c.url, got, ok, c.want, c.ok)
		}
	}
	if _, ok := shop.Origin(nil); ok {
		t.Error("Origin(nil) is an origin")
	}
}
