package order_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestBuyersReachTheirOwnOrders: a buyer reads their own orders, by
// account or by the guest token; to them every other order does not
// exist, and they see neither notes nor which staff member acted.
func TestBuyersReachTheirOwnOrders(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addCustomer(t, "cus_a", "a@example.com", true)
		f.addCustomer(t, "cus_b", "b@example.com", true)
		mine := f.place(t, buyer("cus_a"), f.input("cart_a", "cus_a", "a@example.com", line{f.tea, 2, 100}))
		theirs := f.place(t, buyer("cus_b"), f.input("cart_b", "cus_b", "b@example.com", line{f.tea, 1, 100}))
		guestOrder := f.place(t, guest(), f.input("cart_g", "", "g@example.com", line{f.tea, 1, 100}))
		if _, err := f.svc.AddNote(staff(authz.RoleSupport), order.AddNoteInput{OrderID: mine.Order.ID, Body: "VIP"}); err != nil {
			t.Fatal(err)
		}
		f.ship(t, mine, 1)

		get := func(ctx context.Context, id string) func() (*order.Detail, error) {
			return func() (*order.Detail, error) { return f.svc.Get(ctx, id) }
		}
		byToken := func(ctx context.Context, token string) func() (*order.Detail, error) {
			return func() (*order.Detail, error) { return f.svc.GetByAccessToken(ctx, token) }
		}
		tests := []struct {
			name string
			read func() (*order.Detail, error)
			want string // the order id read, or an error code
		}{
			{"the owner by id", get(buyer("cus_a"), mine.Order.ID), mine.Order.ID},
			{"another buyer by id", get(buyer("cus_b"), mine.Order.ID), order.CodeOrderNotFound},
			{"a guest by id", get(guest(), guestOrder.Order.ID), order.CodeOrderNotFound},
			{"a guest by token", byToken(guest(), guestOrder.AccessToken), guestOrder.Order.ID},
			{"a signed-in buyer with the guest's token", byToken(buyer("cus_b"), guestOrder.AccessToken), guestOrder.Order.ID},
			{"a wrong token", byToken(guest(), guestOrder.AccessToken+"x"), order.CodeOrderNotFound},
			{"no token", byToken(guest(), ""), order.CodeOrderNotFound},
			{"staff by id", get(staff(authz.RoleSupport), theirs.Order.ID), theirs.Order.ID},
			{"an unknown order", get(staff(authz.RoleSupport), "ord_missing"), order.CodeOrderNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				d, err := tc.read()
				got := codeOf(err)
				if err == nil {
					got = d.Order.ID
				}
				if got != tc.want {
					t.Errorf("got %s, want %s", got, tc.want)
				}
			})
		}

		t.Run("what the buyer sees", func(t *testing.T) {
			d, err := f.svc.Get(buyer("cus_a"), mine.Order.ID)
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, e := range d.Timeline {
				actor := ""
				if e.Actor != nil {
					actor = *e.Actor
				}
				seen = append(seen, e.Machine+" "+e.ToState+" "+string(e.Visibility)+" "+actor)
			}
			want := []string{"order.status OPEN BUYER cus_a", "order.fulfillment_status PARTIALLY_FULFILLED BUYER "}
			if diff := cmp.Diff(want, seen); diff != "" || d.Notes != nil || len(d.Shipments) != 1 {
				t.Errorf("timeline (-want +got):\n%s\nnotes %v, shipments %d", diff, d.Notes, len(d.Shipments))
			}
			s, err := f.svc.Get(staff(authz.RoleSupport), mine.Order.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Timeline) != 3 || len(s.Notes) != 1 || s.Timeline[1].Machine != order.MachineNote ||
				s.Timeline[1].Visibility != order.StaffOnly || *s.Timeline[2].Actor != "stf_"+authz.RoleFulfillment {
				t.Errorf("staff see timeline %d rows, notes %d", len(s.Timeline), len(s.Notes))
			}
		})

		t.Run("my orders", func(t *testing.T) {
			tests := []struct {
				name string
				ctx  context.Context
				want []string
				code string
			}{
				{"a", buyer("cus_a"), []string{mine.Order.ID}, ""},
				{"b", buyer("cus_b"), []string{theirs.Order.ID}, ""},
				{"a buyer without orders", buyer("cus_c"), nil, ""},
				{"a guest", guest(), nil, "UNAUTHENTICATED"},
				{"staff", staff(authz.RoleSupport), nil, "FORBIDDEN"},
				{"the owner of the shop", staff(authz.RoleOwner), nil, "UNAUTHENTICATED"},
			}
			for _, tc := range tests {
				p, err := f.svc.MyOrders(tc.ctx, page.Request{First: 10})
				var got []string
				for _, o := range p.Items {
					got = append(got, o.ID)
				}
				if codeOf(err) != tc.code || !cmp.Equal(got, tc.want) {
					t.Errorf("%s: %v, %v; want %v, %s", tc.name, got, err, tc.want, tc.code)
				}
			}
		})
	})
}

// TestCancelUnpaid: a buyer cancels their own order while it waits for
// payment and nothing shipped, by id or by the guest token; everything
// else is refused with a typed error and changes nothing.
func TestCancelUnpaid(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		mug := f.variant(t, "Mug", "MUG", 1000)
		f.addCustomer(t, "cus_a", "a@example.com", true)
		byID := func(ctx context.Context) func(*order.Placed) error {
			return func(p *order.Placed) error {
				_, err := f.svc.CancelUnpaid(ctx, order.CancelUnpaidInput{OrderID: p.Order.ID, Reason: "changed my mind"})
				return err
			}
		}
		byToken := func(p *order.Placed) error {
			_, err := f.svc.CancelUnpaid(guest(), order.CancelUnpaidInput{AccessToken: p.AccessToken})
			return err
		}
		tests := []struct {
			name     string
			customer string // "" places as a guest
			setup    func(*testing.T, *order.Placed)
			cancel   func(*order.Placed) error
			want     string
		}{
			{"the owner", "cus_a", nil, byID(buyer("cus_a")), ""},
			{"a guest with the token", "", nil, byToken, ""},
			{"a guest with the token and the wrong id", "", nil, func(p *order.Placed) error {
				_, err := f.svc.CancelUnpaid(guest(), order.CancelUnpaidInput{OrderID: "ord_other", AccessToken: p.AccessToken})
				return err
			}, order.CodeOrderNotFound},
			{"a guest by id", "", nil, byID(guest()), order.CodeOrderNotFound},
			{"another buyer", "cus_a", nil, byID(buyer("cus_b")), order.CodeOrderNotFound},
			{"staff through the buyer's door", "cus_a", nil, byID(staff(authz.RoleOwner)), order.CodeOrderNotFound},
			{"nothing named", "cus_a", nil, func(*order.Placed) error {
				_, err := f.svc.CancelUnpaid(buyer("cus_a"), order.CancelUnpaidInput{})
				return err
			}, order.CodeRequired},
			{"a paid order", "cus_a", func(t *testing.T, p *order.Placed) { f.pay(t, p.Order.ID, order.PaymentPaid) },
				byID(buyer("cus_a")), order.CodePaymentNotPending},
			{"a failed payment", "", func(t *testing.T, p *order.Placed) { f.pay(t, p.Order.ID, order.PaymentFailed) },
				byToken, ""},
			{"a shipped order", "cus_a", func(t *testing.T, p *order.Placed) { f.ship(t, p, 1) },
				byID(buyer("cus_a")), order.CodeAlreadyShipped},
			{"a cancelled order", "", func(t *testing.T, p *order.Placed) { f.cancel(t, p) },
				byToken, order.CodeNotOpen},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx, email := guest(), "g@example.com"
				if tc.customer != "" {
					ctx, email = buyer(tc.customer), "a@example.com"
				}
				p := f.place(t, ctx, f.input("cart_"+itoa(int64(i)), tc.customer, email, line{mug, 2, 100}))
				if tc.setup != nil {
					tc.setup(t, p)
				}
				before := f.state(t, p.Order.ID)
				err := tc.cancel(p)
				after := f.state(t, p.Order.ID)
				if got := codeOf(err); got != tc.want {
					t.Fatalf("code %q (%v), want %q", got, err, tc.want)
				}
				if tc.want == order.CodePaymentNotPending && strings.Contains(err.Error(), "void") {
					t.Errorf("the buyer is told what only staff can do: %v", err)
				}
				if tc.want != "" {
					if diff := cmp.Diff(before, after); diff != "" {
						t.Errorf("a refused cancel changed (-before +after):\n%s", diff)
					}
					return
				}
				if after.Status != "CANCELLED" || after.Timeline != before.Timeline+1 || after.Events != before.Events+1 ||
					after.Stock["MUG"] != [2]int64{before.Stock["MUG"][0], before.Stock["MUG"][1] - 2} {
					t.Errorf("before %+v\nafter %+v", before, after)
				}
				if evs := f.eventsOf(t, p.Order.ID); evs[len(evs)-1] != order.SubjectCancelled {
					t.Errorf("events %v", evs)
				}
			})
		}
	})
}

// TestClaimGuestOrders: a signed-in buyer whose email is verified gets the
// orders placed as a guest with that address, and no other; without a
// verified address they get nothing.
func TestClaimGuestOrders(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addCustomer(t, "cus_a", "a@example.com", true)
		f.addCustomer(t, "cus_u", "u@example.com", false)
		f.addCustomer(t, "cus_b", "b@example.com", true)
		g1 := f.place(t, guest(), f.input("cart_1", "", "A@Example.com", line{f.tea, 1, 100}))
		g2 := f.place(t, guest(), f.input("cart_2", "", "a@example.com", line{f.tea, 1, 100}))
		f.place(t, guest(), f.input("cart_3", "", "u@example.com", line{f.tea, 1, 100}))
		f.place(t, guest(), f.input("cart_4", "", "someone@example.com", line{f.tea, 1, 100}))
		// An order of another account with the address stays theirs.
		f.place(t, buyer("cus_b"), f.input("cart_5", "cus_b", "a@example.com", line{f.tea, 1, 100}))

		tests := []struct {
			name string
			ctx  context.Context
			want int
			code string
		}{
			{"unverified", buyer("cus_u"), 0, order.CodeEmailNotVerified},
			{"a guest", guest(), 0, "UNAUTHENTICATED"},
			{"staff", staff(authz.RoleOwner), 0, "UNAUTHENTICATED"},
			{"verified", buyer("cus_a"), 2, ""},
			{"again", buyer("cus_a"), 0, ""},
		}
		for _, tc := range tests {
			n, err := f.svc.ClaimGuestOrders(tc.ctx)
			if n != tc.want || codeOf(err) != tc.code {
				t.Errorf("%s: %d, %v; want %d, %s", tc.name, n, err, tc.want, tc.code)
			}
		}
		p, err := f.svc.MyOrders(buyer("cus_a"), page.Request{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range p.Items {
			got = append(got, o.ID)
		}
		if diff := cmp.Diff([]string{g2.Order.ID, g1.Order.ID}, got); diff != "" {
			t.Errorf("claimed (-want +got):\n%s", diff)
		}
		d, err := f.svc.Get(buyer("cus_a"), g1.Order.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := d.Timeline[len(d.Timeline)-1]; last.Machine != order.MachineClaim || last.Visibility != order.VisibleToBuyer {
			t.Errorf("last timeline row %+v", last)
		}
		if n := f.count(t, "orders", "customer_id IS NULL AND email = ?", "u@example.com"); n != 1 {
			t.Errorf("the unverified buyer's guest order was claimed")
		}
		// The claimed orders' guest tokens no longer read or cancel them.
		for _, g := range []*order.Placed{g1, g2} {
			if _, err := f.svc.GetByAccessToken(guest(), g.AccessToken); codeOf(err) != order.CodeOrderNotFound {
				t.Errorf("a claimed order read by its old token: %v", err)
			}
			if _, err := f.svc.CancelUnpaid(guest(), order.CancelUnpaidInput{AccessToken: g.AccessToken, Reason: "not mine any more"}); codeOf(err) != order.CodeOrderNotFound {
				t.Errorf("a claimed order cancelled by its old token: %v", err)
			}
		}
		if _, err := f.svc.Get(buyer("cus_a"), g2.Order.ID); err != nil {
			t.Errorf("the account reads the claimed order: %v", err)
		}
	})
}
