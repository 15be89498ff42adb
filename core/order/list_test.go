package order_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// walk lists every order matching filter, first at a time, following the
// cursors, and returns their numbers.
func walk(t *testing.T, f *fixture, ctx context.Context, filter order.Filter, first int) ([]string, error) {
	t.Helper()
	var out []string
	req := page.Request{First: first}
	for range 100 {
		p, err := f.svc.List(ctx, filter, req)
		if err != nil {
			return nil, err
		}
		if p.HasPrevious != (req.After != nil) || len(p.Items) != len(p.Cursors) || len(p.Items) > first {
			t.Fatalf("page of %d items, %d cursors, has previous %v", len(p.Items), len(p.Cursors), p.HasPrevious)
		}
		for _, o := range p.Items {
			out = append(out, o.Number)
		}
		if !p.HasNext {
			return out, nil
		}
		req.After = &p.Cursors[len(p.Cursors)-1]
	}
	t.Fatal("more than 100 pages")
	return nil, nil
}

// TestList: every filter and sort of the staff's list, on one page and
// walked two orders at a time, gives the same orders in the same order;
// bad filters and callers without order read are refused.
func TestList(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		big := f.variant(t, "Big", "BIG", 1000)
		f.addCustomer(t, "cus_a", "a@example.com", true)
		f.addCustomer(t, "cus_b", "b@example.com", true)
		type spec struct {
			customer, email string
			qty, unit       int64
			then            func(*testing.T, *order.Placed)
		}
		paid := func(t *testing.T, p *order.Placed) { f.pay(t, p.Order.ID, order.PaymentPaid) }
		specs := []spec{
			{"", "alice@example.com", 1, 500, nil},                                                               // #1001 total 1500
			{"cus_a", "a@example.com", 2, 300, paid},                                                             // #1002 1600
			{"", "alice.b@example.org", 1, 9000, func(t *testing.T, p *order.Placed) { f.cancel(t, p) }},         // #1003 10000
			{"", "bob@example.com", 3, 100, func(t *testing.T, p *order.Placed) { paid(t, p); f.ship(t, p, 3) }}, // #1004 1300
			{"cus_a", "a@example.com", 1, 2000, func(t *testing.T, p *order.Placed) {
				paid(t, p)
				if _, err := f.db.NewUpdate().Table("orders").Set("payment_method = ?", "payment.stripe").Where("id = ?", p.Order.ID).Exec(context.Background()); err != nil {
					t.Fatal(err)
				}
			}}, // #1005 3000
			{"", "alice@example.com", 1, 700, func(t *testing.T, p *order.Placed) { f.pay(t, p.Order.ID, order.PaymentFailed) }}, // #1006 1700
			{"", "ali@example.com", 1, 100, nil},    // #1007 1100
			{"cus_b", "b@example.com", 5, 100, nil}, // #1008 1500
		}
		created := map[string]time.Time{}
		for i, s := range specs {
			f.clock.Advance(time.Hour)
			ctx := guest()
			if s.customer != "" {
				ctx = buyer(s.customer)
			}
			p := f.place(t, ctx, f.input("cart_"+itoa(int64(i)), s.customer, s.email, line{big, s.qty, s.unit}))
			created[p.Order.Number] = p.Order.CreatedAt
			if s.then != nil {
				s.then(t, p)
			}
		}
		all := []string{"#1008", "#1007", "#1006", "#1005", "#1004", "#1003", "#1002", "#1001"}
		reversed := func(ns []string) []string {
			out := make([]string, len(ns))
			for i, n := range ns {
				out[len(ns)-1-i] = n
			}
			return out
		}
		tests := []struct {
			name   string
			filter order.Filter
			want   []string
		}{
			{"everything, newest first", order.Filter{}, all},
			{"oldest first", order.Filter{Ascending: true}, reversed(all)},
			{"cancelled", order.Filter{Status: order.Cancelled}, []string{"#1003"}},
			{"open", order.Filter{Status: order.Open}, []string{"#1008", "#1007", "#1006", "#1005", "#1004", "#1002", "#1001"}},
			{"paid", order.Filter{PaymentStatus: order.PaymentPaid}, []string{"#1005", "#1004", "#1002"}},
			{"fulfilled", order.Filter{FulfillmentStatus: order.Fulfilled}, []string{"#1004"}},
			{"placed in a range", order.Filter{CreatedFrom: created["#1003"], CreatedTo: created["#1006"]}, []string{"#1005", "#1004", "#1003"}},
			{"placed since", order.Filter{CreatedFrom: created["#1007"]}, []string{"#1008", "#1007"}},
			{"a customer's", order.Filter{CustomerID: "cus_a"}, []string{"#1005", "#1002"}},
			{"paid with a method", order.Filter{PaymentMethod: "payment.stripe"}, []string{"#1005"}},
			{"by number", order.Filter{Query: "#1004"}, []string{"#1004"}},
			{"by bare number", order.Filter{Query: " 1004 "}, []string{"#1004"}},
			{"by an unknown number", order.Filter{Query: "#9999"}, nil},
			{"by email", order.Filter{Query: "Alice@Example.com"}, []string{"#1006", "#1001"}},
			{"by the name before the @", order.Filter{Query: "ALICE"}, []string{"#1006", "#1001"}},
			{"by a short name", order.Filter{Query: "ali"}, []string{"#1007"}},
			{"by a name with a dot", order.Filter{Query: "alice.b"}, []string{"#1003"}},
			{"by one letter", order.Filter{Query: "b"}, []string{"#1008"}},
			{"by part of a name", order.Filter{Query: "alic"}, nil},
			{"open, unpaid, by name", order.Filter{Status: order.Open, PaymentStatus: order.PaymentPending, Query: "alice"}, []string{"#1001"}},
			{"by number, highest first", order.Filter{SortKey: order.SortNumber}, all},
			{"by number, lowest first", order.Filter{SortKey: order.SortNumber, Ascending: true}, reversed(all)},
			{"by total, highest first", order.Filter{SortKey: order.SortTotal},
				[]string{"#1003", "#1005", "#1006", "#1002", "#1008", "#1001", "#1004", "#1007"}},
			{"by total, lowest first", order.Filter{SortKey: order.SortTotal, Ascending: true},
				[]string{"#1007", "#1004", "#1001", "#1008", "#1002", "#1006", "#1005", "#1003"}},
			{"paid, by total", order.Filter{PaymentStatus: order.PaymentPaid, SortKey: order.SortTotal}, []string{"#1005", "#1002", "#1004"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for _, first := range []int{100, 2, 1} {
					got, err := walk(t, f, staff(authz.RoleFinance), tc.filter, first)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("pages of %d (-want +got):\n%s", first, diff)
					}
				}
				// The count of the same filter, whole or bounded.
				for _, limit := range []int{100, 3, 1} {
					want := order.OrderCount{N: min(len(tc.want), limit), More: len(tc.want) > limit, Known: true}
					got, err := f.svc.Count(staff(authz.RoleFinance), tc.filter, limit)
					if err != nil || got != want {
						t.Errorf("Count up to %d: %+v (%v), want %+v", limit, got, err, want)
					}
				}
			})
		}

		t.Run("count", func(t *testing.T) {
			if got, err := f.svc.Count(staff(authz.RoleFinance), order.Filter{}, 0); err != nil || got != (order.OrderCount{N: len(all), Known: true}) {
				t.Errorf("Count with the default limit: %+v (%v)", got, err)
			}
			for _, tc := range []struct {
				name   string
				ctx    context.Context
				filter order.Filter
				limit  int
				want   []string
			}{
				{"no limit below one", staff(authz.RoleFinance), order.Filter{}, -1, []string{"limit INVALID_LIMIT"}},
				{"a huge limit", staff(authz.RoleFinance), order.Filter{}, order.MaxCountLimit + 1, []string{"limit INVALID_LIMIT"}},
				{"a bad filter", staff(authz.RoleFinance), order.Filter{Status: "NEW"}, 10, []string{"status INVALID_STATUS"}},
				{"a buyer", buyer("cus_a"), order.Filter{}, 10, []string{" FORBIDDEN"}},
				{"a guest", guest(), order.Filter{}, 10, []string{" UNAUTHENTICATED"}},
				{"a guest's bad limit tells nothing", guest(), order.Filter{}, -1, []string{" UNAUTHENTICATED"}},
			} {
				_, err := f.svc.Count(tc.ctx, tc.filter, tc.limit)
				if diff := cmp.Diff(tc.want, problems(err)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tc.name, diff)
				}
			}
			// Counting past its budget is given up, not an error.
			order.SetCountBudget(f.svc, time.Nanosecond)
			defer order.SetCountBudget(f.svc, order.CountBudget)
			if got, err := f.svc.Count(staff(authz.RoleFinance), order.Filter{}, 10); err != nil || got.Known {
				t.Errorf("a count past its budget: %+v (%v)", got, err)
			}
		})

		t.Run("refused", func(t *testing.T) {
			bad := &page.Cursor{ID: "ord_x", Key: "yesterday"}
			tests := []struct {
				name   string
				ctx    context.Context
				filter order.Filter
				after  *page.Cursor
				want   []string
			}{
				{"unknown values", staff(authz.RoleFinance), order.Filter{Status: "NEW", PaymentStatus: "GIFT", FulfillmentStatus: "LOST", SortKey: "PRICE"}, nil,
					[]string{"fulfillmentStatus INVALID_STATUS", "paymentStatus INVALID_STATUS", "sortKey INVALID_SORT_KEY", "status INVALID_STATUS"}},
				{"an empty range", staff(authz.RoleFinance), order.Filter{CreatedFrom: created["#1003"], CreatedTo: created["#1002"]}, nil,
					[]string{"createdTo INVALID_DATE_RANGE"}},
				{"a bad cursor", staff(authz.RoleFinance), order.Filter{}, bad, []string{"after INVALID_CURSOR"}},
				{"a bad number cursor", staff(authz.RoleFinance), order.Filter{SortKey: order.SortTotal}, bad, []string{"after INVALID_CURSOR"}},
				{"a buyer", buyer("cus_a"), order.Filter{}, nil, []string{" FORBIDDEN"}},
				{"a guest", guest(), order.Filter{}, nil, []string{" UNAUTHENTICATED"}},
			}
			for _, tc := range tests {
				_, err := f.svc.List(tc.ctx, tc.filter, page.Request{First: 10, After: tc.after})
				if diff := cmp.Diff(tc.want, problems(err)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tc.name, diff)
				}
			}
		})

		t.Run("stable while orders are placed", func(t *testing.T) {
			p, err := f.svc.List(staff(authz.RoleFinance), order.Filter{}, page.Request{First: 3})
			if err != nil {
				t.Fatal(err)
			}
			f.place(t, guest(), f.input("cart_new", "", "new@example.com", line{big, 1, 100}))
			rest, err := f.svc.List(staff(authz.RoleFinance), order.Filter{}, page.Request{First: 10, After: &p.Cursors[2]})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range append(p.Items, rest.Items...) {
				got = append(got, o.Number)
			}
			if diff := cmp.Diff(all, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	})
}
