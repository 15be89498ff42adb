package cart_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

func TestNewServiceNeedsItsPorts(t *testing.T) {
	db := storetest.NewSQLite(t)
	if _, err := cart.NewService(db, cart.Options{}); err == nil {
		t.Fatal("no ports: want an error")
	}
	if _, err := cart.NewService(nil, cart.Options{}); err == nil {
		t.Fatal("no database: want an error")
	}
}

func TestCreate(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tests := []struct {
			name      string
			ctx       context.Context
			currency  string
			wantCur   money.Currency
			wantToken bool
			wantCode  string
		}{
			{name: "guest, default currency", ctx: guest(), wantCur: money.CNY, wantToken: true},
			{name: "guest, lower case", ctx: guest(), currency: "usd", wantCur: money.USD, wantToken: true},
			{name: "guest, no minor unit", ctx: guest(), currency: "JPY", wantCur: money.JPY, wantToken: true},
			{name: "currency not sold", ctx: guest(), currency: "EUR", wantCode: cart.CodeCurrencyNotSupported},
			{name: "not a currency", ctx: guest(), currency: "EURO", wantCode: cart.CodeInvalidCurrency},
			{name: "buyer", ctx: buyer("cus_alice"), currency: "CNY", wantCur: money.CNY},
			{name: "buyer with an open cart", ctx: buyer("cus_alice"), currency: "USD", wantCode: cart.CodeCartExists},
			{name: "staff without cart permission", ctx: support(), wantCode: "FORBIDDEN"},
		}
		for _, tt := range tests {
			got, err := f.svc.Create(tt.ctx, tt.currency)
			if tt.wantCode != "" {
				if all := errs.All(err); len(all) != 1 || all[0].Code != tt.wantCode {
					t.Errorf("%s: err = %v, want %s", tt.name, err, tt.wantCode)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			c := got.Cart
			if c.Currency != tt.wantCur || (got.Token != "") != tt.wantToken || c.Totals.Total != money.Zero(tt.wantCur) {
				t.Errorf("%s: currency %v, token %q, total %v", tt.name, c.Currency, got.Token, c.Totals.Total)
			}
			if tt.wantToken && (len(got.Token) != 43 || c.CustomerID != nil || c.TokenHash == nil || *c.TokenHash == got.Token) {
				t.Errorf("%s: token %q, hash %v: want 32 random bytes stored as their hash", tt.name, got.Token, c.TokenHash)
			}
			if !tt.wantToken && (c.CustomerID == nil || *c.CustomerID != "cus_alice" || c.TokenHash != nil) {
				t.Errorf("%s: want the buyer's cart without token", tt.name)
			}
		}
	})
}

// TestOwnership: a cart is reached by its token or as its buyer; every
// other way it does not exist, and nobody else changes it.
func TestOwnership(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		guestCart, err := f.svc.Create(guest(), "")
		if err != nil {
			t.Fatal(err)
		}
		mine := cart.Ref{Token: guestCart.Token}
		mustCart(t)(f.svc.AddLines(guest(), mine, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}))
		alice, err := f.svc.Create(buyer("cus_alice"), "")
		if err != nil {
			t.Fatal(err)
		}
		other := f.newGuestCart(t, "")

		tests := []struct {
			name     string
			ctx      context.Context
			ref      cart.Ref
			wantID   string
			wantCode string
		}{
			{name: "guest with the token", ctx: guest(), ref: mine, wantID: guestCart.Cart.ID},
			{name: "token and its id", ctx: guest(), ref: cart.Ref{ID: guestCart.Cart.ID, Token: guestCart.Token}, wantID: guestCart.Cart.ID},
			{name: "a buyer holding the token", ctx: buyer("cus_bob"), ref: mine, wantID: guestCart.Cart.ID},
			{name: "token with another cart's id", ctx: guest(), ref: cart.Ref{ID: alice.Cart.ID, Token: guestCart.Token}, wantCode: cart.CodeCartNotFound},
			{name: "guest by id alone", ctx: guest(), ref: cart.Ref{ID: guestCart.Cart.ID}, wantCode: cart.CodeCartNotFound},
			{name: "unknown token", ctx: guest(), ref: cart.Ref{Token: "not-a-token"}, wantCode: cart.CodeCartNotFound},
			{name: "guest without anything", ctx: guest(), ref: cart.Ref{}, wantCode: cart.CodeCartNotFound},
			{name: "buyer's open cart", ctx: buyer("cus_alice"), ref: cart.Ref{}, wantID: alice.Cart.ID},
			{name: "buyer's cart by id", ctx: buyer("cus_alice"), ref: cart.Ref{ID: alice.Cart.ID}, wantID: alice.Cart.ID},
			{name: "another buyer's cart by id", ctx: buyer("cus_bob"), ref: cart.Ref{ID: alice.Cart.ID}, wantCode: cart.CodeCartNotFound},
			{name: "a guest cart by id as a buyer", ctx: buyer("cus_alice"), ref: cart.Ref{ID: guestCart.Cart.ID}, wantCode: cart.CodeCartNotFound},
			{name: "buyer without a cart", ctx: buyer("cus_bob"), ref: cart.Ref{}, wantCode: cart.CodeCartNotFound},
			{name: "staff", ctx: support(), ref: cart.Ref{ID: alice.Cart.ID}, wantCode: "FORBIDDEN"},
		}
		for _, tt := range tests {
			c, err := f.svc.Get(tt.ctx, tt.ref)
			if tt.wantCode != "" {
				if all := errs.All(err); len(all) != 1 || all[0].Code != tt.wantCode {
					t.Errorf("%s: err = %v, want %s", tt.name, err, tt.wantCode)
				}
				if tt.wantCode == cart.CodeCartNotFound && !errors.Is(err, errs.ErrNotFound) {
					t.Errorf("%s: %v is not a not found", tt.name, err)
				}
				// Changing is refused the same way, and changes nothing.
				if _, err := f.svc.AddLines(tt.ctx, tt.ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 5}}); len(errs.All(err)) != 1 || errs.All(err)[0].Code != tt.wantCode {
					t.Errorf("%s: add lines: err = %v, want %s", tt.name, err, tt.wantCode)
				}
				continue
			}
			if err != nil || c.ID != tt.wantID {
				t.Errorf("%s: got %v, %v; want cart %s", tt.name, c, err, tt.wantID)
			}
		}
		for _, ref := range []cart.Ref{mine, other} {
			c := mustCart(t)(f.svc.Get(guest(), ref))
			if c.ID == guestCart.Cart.ID && quantities(c)[f.tea100] != 1 || c.ID != guestCart.Cart.ID && len(c.Lines) != 0 {
				t.Errorf("cart %s changed by someone else: %v", c.ID, quantities(c))
			}
		}
		if c := mustCart(t)(f.svc.Get(buyer("cus_alice"), cart.Ref{})); len(c.Lines) != 0 {
			t.Errorf("alice's cart changed by someone else: %v", quantities(c))
		}
	})
}

func TestLines(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "CNY")
		usd := f.newGuestCart(t, "USD")
		line := func(v string, q int64) cart.LineInput { return cart.LineInput{VariantID: v, Quantity: q} }
		lineID := func(v string) string {
			for _, l := range mustCart(t)(f.svc.Get(guest(), ref)).Lines {
				if l.VariantID == v {
					return l.ID
				}
			}
			return "cln_none"
		}
		steps := []struct {
			name  string
			ref   cart.Ref
			do    func(ref cart.Ref) (*cart.Cart, error)
			want  map[string]int64
			codes []string
		}{
			{name: "add", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.tea100, 2)})
			},
				want: map[string]int64{f.tea100: 2}},
			{name: "add to the same line", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.tea100, 3)})
			}, want: map[string]int64{f.tea100: 5}},
			{name: "one variant twice in a call", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.tea100, 1), line(f.tea250, 1), line(f.tea100, 1)})
			}, want: map[string]int64{f.tea100: 7, f.tea250: 1}},
			{name: "over the line limit", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.tea100, 4)})
			}, codes: []string{"lines.0.quantity QUANTITY_OVER_LIMIT"}},
			{name: "over the stock", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.tea250, 5)})
			}, codes: []string{"lines.0.quantity INSUFFICIENT_STOCK"}},
			{name: "variants not for sale, all reported", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.mug, 1), line("var_unknown", 1), line(f.kettle, 1), line(f.tea100, 1)})
			}, codes: []string{"lines.0.variantId VARIANT_NOT_FOUND", "lines.1.variantId VARIANT_NOT_FOUND", "lines.2.variantId VARIANT_ARCHIVED"}},
			{name: "bad input", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.tea100, 0), line("", 1)})
			}, codes: []string{"lines.0.quantity INVALID_QUANTITY", "lines.1.variantId REQUIRED"}},
			{name: "nothing to add", do: func(r cart.Ref) (*cart.Cart, error) { return f.svc.AddLines(guest(), r, nil) },
				codes: []string{"lines REQUIRED"}},
			{name: "not priced in the cart's currency", ref: usd, do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.AddLines(guest(), r, []cart.LineInput{line(f.tea250, 1)})
			}, codes: []string{"lines.0.variantId VARIANT_UNAVAILABLE"}},
			{name: "update", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.UpdateLines(guest(), r, []cart.LineUpdate{{LineID: lineID(f.tea100), Quantity: 3}})
			}, want: map[string]int64{f.tea100: 3, f.tea250: 1}},
			{name: "update refused", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.UpdateLines(guest(), r, []cart.LineUpdate{{LineID: lineID(f.tea100), Quantity: 11}, {LineID: "cln_other", Quantity: 1},
					{LineID: lineID(f.tea250), Quantity: -1}})
			}, codes: []string{"lines.2.quantity INVALID_QUANTITY"}},
			{name: "update of unknown lines and over the stock", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.UpdateLines(guest(), r, []cart.LineUpdate{{LineID: lineID(f.tea100), Quantity: 11}, {LineID: "cln_other", Quantity: 1},
					{LineID: lineID(f.tea250), Quantity: 6}})
			}, codes: []string{"lines.0.quantity QUANTITY_OVER_LIMIT", "lines.1.lineId LINE_NOT_FOUND", "lines.2.quantity INSUFFICIENT_STOCK"}},
			{name: "update to zero removes", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.UpdateLines(guest(), r, []cart.LineUpdate{{LineID: lineID(f.tea250), Quantity: 0}})
			}, want: map[string]int64{f.tea100: 3}},
			{name: "remove an unknown line", do: func(r cart.Ref) (*cart.Cart, error) {
				return f.svc.RemoveLines(guest(), r, []string{lineID(f.tea100), "cln_other"})
			}, codes: []string{"lineIds.1 LINE_NOT_FOUND"}},
			{name: "remove", do: func(r cart.Ref) (*cart.Cart, error) { return f.svc.RemoveLines(guest(), r, []string{lineID(f.tea100)}) },
				want: map[string]int64{}},
		}
		for _, s := range steps {
			r := ref
			if s.ref.Token != "" {
				r = s.ref
			}
			before := quantities(mustCart(t)(f.svc.Get(guest(), r)))
			c, err := s.do(r)
			if s.codes != nil {
				if diff := cmp.Diff(s.codes, problems(err)); diff != "" {
					t.Fatalf("%s: problems (-want +got):\n%s", s.name, diff)
				}
				if after := quantities(mustCart(t)(f.svc.Get(guest(), r))); !cmp.Equal(before, after) {
					t.Fatalf("%s: refused, yet the lines changed from %v to %v", s.name, before, after)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if diff := cmp.Diff(s.want, quantities(c)); diff != "" {
				t.Fatalf("%s: lines (-want +got):\n%s", s.name, diff)
			}
		}
	})
}

// TestLinesPricedOnRead: a line keeps its place when its variant stops
// being for sale; it is marked and left out of the totals.
func TestLinesPricedOnRead(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "")
		c := mustCart(t)(f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 2}, {VariantID: f.tea250, Quantity: 4}}))
		l := c.Lines[0]
		if l.ProductTitle != "Oolong Tea" || l.VariantTitle != "100 g" || l.SKU != "TEA-100" || l.WeightGrams != 120 ||
			l.UnitPrice != money.New(6800, money.CNY) || l.Subtotal != money.New(13600, money.CNY) || l.Available != 40 || l.Problem != "" {
			t.Fatalf("priced line: %+v", l)
		}
		if c.Totals.Subtotal != money.New(13600+59200, money.CNY) {
			t.Fatalf("subtotal %v", c.Totals.Subtotal)
		}
		// Another buyer's order takes 3 of the 5 large packs, and the
		// small one is archived.
		if err := f.placer.res.Reserve(context.Background(), "ord_other", []catalog.ReservationLine{{VariantID: f.tea250, Quantity: 3}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.catalog.ArchiveVariant(staff(), f.tea100); err != nil {
			t.Fatal(err)
		}
		c = mustCart(t)(f.svc.Get(guest(), ref))
		got := map[string]string{}
		for _, l := range c.Lines {
			got[l.VariantID] = l.Problem
		}
		if diff := cmp.Diff(map[string]string{f.tea100: cart.CodeVariantArchived, f.tea250: cart.CodeInsufficientStock}, got); diff != "" {
			t.Fatalf("problems (-want +got):\n%s", diff)
		}
		if c.Lines[0].ProductTitle != "" || c.Lines[0].Subtotal != money.Zero(money.CNY) {
			t.Errorf("a line not for sale shows %+v", c.Lines[0])
		}
		if c.Totals.Subtotal != money.New(59200, money.CNY) || c.Lines[1].Available != 2 {
			t.Errorf("subtotal %v, available %d: want the large packs only, 2 left", c.Totals.Subtotal, c.Lines[1].Available)
		}
	})
}

func TestEmailAndAddresses(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "")
		c := mustCart(t)(f.svc.SetEmail(guest(), ref, "  Li.Wei@Example.COM "))
		if c.Email != "li.wei@example.com" {
			t.Errorf("email %q", c.Email)
		}
		for _, bad := range []string{"", "li", "li@", "Li <li@example.com>", "li@example"} {
			if _, err := f.svc.SetEmail(guest(), ref, bad); !cmp.Equal(problems(err), []string{"email INVALID_EMAIL"}) {
				t.Errorf("email %q: %v", bad, err)
			}
		}
		a := cnAddress()
		a.CountryCode, a.City = " cn ", " Shenzhen "
		c = mustCart(t)(f.svc.SetShippingAddress(guest(), ref, a, nil))
		if want := cnAddress(); *c.ShippingAddress != want || c.BillingAddress != nil {
			t.Errorf("shipping address %+v, billing %+v", c.ShippingAddress, c.BillingAddress)
		}
		bill := order.Address{Company: "Kassa Ltd", Line1: "2 Harbour Road", City: "Hong Kong", CountryCode: "HK"}
		if c = mustCart(t)(f.svc.SetBillingAddress(guest(), ref, bill, nil)); *c.BillingAddress != bill {
			t.Errorf("billing address %+v", c.BillingAddress)
		}
		long := string(make([]rune, 201))
		for name, tt := range map[string]struct {
			a    order.Address
			want []string
		}{
			"unknown country": {order.Address{LastName: "Li", Line1: "x", City: "y", CountryCode: "XX"}, []string{"address.countryCode INVALID_COUNTRY"}},
			"three letters":   {order.Address{LastName: "Li", Line1: "x", City: "y", CountryCode: "CHN"}, []string{"address.countryCode INVALID_COUNTRY"}},
			"empty":           {order.Address{}, []string{"address.lastName REQUIRED", "address.line1 REQUIRED", "address.city REQUIRED", "address.countryCode INVALID_COUNTRY"}},
			"too long":        {order.Address{Line1: "x", City: "y", CountryCode: "CN", Company: long}, []string{"address.company TOO_LONG"}},
		} {
			if _, err := f.svc.SetShippingAddress(guest(), ref, tt.a, nil); !cmp.Equal(problems(err), tt.want) {
				t.Errorf("%s: %v", name, problems(err))
			}
		}
		if c = mustCart(t)(f.svc.Get(guest(), ref)); *c.ShippingAddress != cnAddress() || *c.BillingAddress != bill {
			t.Error("a refused address changed the cart")
		}
	})
}

// TestEmailWithAddress: an address update that carries an email sets
// both at once, checked as SetEmail and the address alone are; a problem
// with either writes neither, and every problem is reported; without an
// email the cart's stays.
func TestEmailWithAddress(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "")
		email := func(s string) *string { return &s }
		c := mustCart(t)(f.svc.SetShippingAddress(guest(), ref, cnAddress(), email("  Li.Wei@Example.COM ")))
		if c.Email != "li.wei@example.com" || c.ShippingAddress == nil || *c.ShippingAddress != cnAddress() {
			t.Fatalf("email %q, shipping address %+v", c.Email, c.ShippingAddress)
		}
		us := order.Address{FirstName: "Ann", Line1: "1 Main St", City: "Boston", CountryCode: "US"}
		for name, tt := range map[string]struct {
			a     order.Address
			email string
			want  []string
		}{
			"a bad email, a good address": {us, "li@example", []string{"email INVALID_EMAIL"}},
			"a good email, a bad address": {order.Address{LastName: "Li", Line1: "x", City: "y", CountryCode: "XX"}, "new@example.com",
				[]string{"address.countryCode INVALID_COUNTRY"}},
			"both bad": {order.Address{}, "Li <li@example.com>",
				[]string{"email INVALID_EMAIL", "address.lastName REQUIRED", "address.line1 REQUIRED", "address.city REQUIRED", "address.countryCode INVALID_COUNTRY"}},
		} {
			if _, err := f.svc.SetShippingAddress(guest(), ref, tt.a, email(tt.email)); !cmp.Equal(problems(err), tt.want) {
				t.Errorf("%s: %v", name, problems(err))
			}
			if _, err := f.svc.SetBillingAddress(guest(), ref, tt.a, email(tt.email)); !cmp.Equal(problems(err), tt.want) {
				t.Errorf("%s, billing: %v", name, problems(err))
			}
		}
		if c = mustCart(t)(f.svc.Get(guest(), ref)); c.Email != "li.wei@example.com" || *c.ShippingAddress != cnAddress() || c.BillingAddress != nil {
			t.Fatalf("a refused update changed the cart: email %q, shipping %+v, billing %+v", c.Email, c.ShippingAddress, c.BillingAddress)
		}
		// No email: the address alone.
		if c = mustCart(t)(f.svc.SetShippingAddress(guest(), ref, us, nil)); c.Email != "li.wei@example.com" || *c.ShippingAddress != us {
			t.Errorf("without an email: email %q, shipping %+v", c.Email, c.ShippingAddress)
		}
		bill := order.Address{LastName: "Chan", Line1: "2 Harbour Road", City: "Hong Kong", CountryCode: "HK"}
		if c = mustCart(t)(f.svc.SetBillingAddress(guest(), ref, bill, email("billing@example.com"))); c.Email != "billing@example.com" ||
			*c.BillingAddress != bill || *c.ShippingAddress != us {
			t.Errorf("billing with an email: email %q, billing %+v, shipping %+v", c.Email, c.BillingAddress, c.ShippingAddress)
		}
		// Another buyer's cart is not reached, whatever the input.
		if _, err := f.svc.SetShippingAddress(buyer("cus_bob"), cart.Ref{ID: c.ID}, cnAddress(), email("bob@example.com")); !cmp.Equal(problems(err), []string{" CART_NOT_FOUND"}) {
			t.Errorf("bob on a guest's cart: %v", problems(err))
		}
	})
}

func staff() context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "usr_owner",
		Roles: []string{authz.RoleOwner}, Store: authz.DefaultStore})
}
