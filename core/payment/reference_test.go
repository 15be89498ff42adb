package payment_test

import (
	"context"
	"testing"

	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestOnePaymentPaysOneOrder: a notification naming an attempt by Kassa's
// id and a gateway payment that another attempt holds is refused and
// flagged, whether the attempt named has a reference of its own or none
// yet; a reference nobody holds is the gateway's to give (Alipay's trade
// number, Stripe's payment intent behind a hosted page) and applies.
func TestOnePaymentPaysOneOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, newFake(fakeID))
		paid := f.start(t, f.place(t, 1), "")
		f.webhook(t, succeeded(paid, "evt_paid"))

		for _, tc := range []struct {
			name      string
			noRef     bool   // the attempt has no gateway reference yet
			ref       string // the notification's; "" is the paid attempt's
			wantPaid  bool
			wantFlag  string
			wantRefAt string // the attempt's reference afterwards; "" is unchanged
		}{
			{name: "another attempt's payment", wantFlag: payment.FlagReferenceInUse},
			{name: "another attempt's payment, no reference yet", noRef: true, wantFlag: payment.FlagReferenceInUse},
			{name: "a reference nobody holds", ref: "pi_later", wantPaid: true},
			{name: "a first reference nobody holds", noRef: true, ref: "trade_2026", wantPaid: true, wantRefAt: "trade_2026"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := f.place(t, 1)
				a := f.start(t, o, "")
				if tc.noRef {
					if _, err := db.NewRaw("UPDATE payment_attempts SET gateway_ref = '' WHERE id = ?", a.ID).Exec(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				ev := succeeded(a, "evt_"+a.ID)
				ev.GatewayRef = paid.GatewayRef
				if tc.ref != "" {
					ev.GatewayRef = tc.ref
				}
				captures := f.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'CAPTURE'")
				f.webhook(t, ev)

				_, ps := f.orderStatus(t, o.id)
				if got := ps == "PAID"; got != tc.wantPaid {
					t.Fatalf("payment status %s, want paid %v", ps, tc.wantPaid)
				}
				want := captures
				if tc.wantPaid {
					want++
				}
				if n := f.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'CAPTURE'"); n != want {
					t.Fatalf("%d captures, want %d", n, want)
				}
				var flag string
				if err := db.NewRaw("SELECT COALESCE(flag_reason, '') FROM payment_gateway_events WHERE gateway_event_id = ?", ev.ID).Scan(context.Background(), &flag); err != nil {
					t.Fatal(err)
				}
				if flag != tc.wantFlag {
					t.Fatalf("flag %q, want %q", flag, tc.wantFlag)
				}
				if tc.wantRefAt != "" {
					if got := f.attempt(t, a.ID).GatewayRef; got != tc.wantRefAt {
						t.Fatalf("attempt's reference %q, want %q", got, tc.wantRefAt)
					}
				}
				if got := f.attempt(t, paid.ID).State; got != payment.StateCaptured {
					t.Fatalf("the paid attempt is %s", got)
				}
			})
		}
	})
}
