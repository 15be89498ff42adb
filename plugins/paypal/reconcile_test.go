package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/paypal/internal/sandbox"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// TestListTransactions reconciles through the sandbox's Transaction
// Search: captures come back as charges with their attempt and order and
// the fee PayPal took, a partial refund as a negative refund row of its
// attempt; pages (PayPal's and the 31-day windows of a long range) are
// followed to the end with no row twice.
func TestListTransactions(t *testing.T) {
	s := newShop(t, sandbox.Options{}, VerifyOffline, nil)
	ctx := context.Background()
	from := time.Now().Add(-time.Minute)
	amounts := map[string]int64{"pay_rec_1": 1000, "pay_rec_2": 2500, "pay_rec_3": 399}
	orders := map[string]string{}
	for id, amt := range amounts {
		res := s.create(t, id, amt, false)
		orders[id] = res.GatewayRef
		if err := s.sb.Approve(res.GatewayRef, sandbox.OutcomeCompleted); err != nil {
			t.Fatal(err)
		}
		st, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: id})
		if err != nil || st.Status != payment.StatusSucceeded {
			t.Fatalf("GetPayment(%s) = %+v, %v", id, st, err)
		}
	}
	rf, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: "ref_rec_1", AttemptID: "pay_rec_2", IdempotencyKey: "ref_rec_1",
		Amount: sdk.Money{Amount: 700, Currency: "USD"}})
	if err != nil || rf.Status != payment.RefundSucceeded {
		t.Fatalf("Refund = %+v, %v", rf, err)
	}
	to := time.Now().Add(time.Minute)

	type row struct {
		Type, AttemptID, GatewayRef string
		Amount, Fee                 int64
		Refund                      bool
	}
	want := map[string]row{
		"pay_rec_1": {"charge", "pay_rec_1", orders["pay_rec_1"], 1000, sandbox.Fee("USD", 1000), false},
		"pay_rec_2": {"charge", "pay_rec_2", orders["pay_rec_2"], 2500, sandbox.Fee("USD", 2500), false},
		"pay_rec_3": {"charge", "pay_rec_3", orders["pay_rec_3"], 399, sandbox.Fee("USD", 399), false},
		"ref_rec_1": {"refund", "pay_rec_2", orders["pay_rec_2"], -700, 0, true},
	}
	list := func(from, to time.Time, size int) map[string]row {
		t.Helper()
		got, ids := map[string]row{}, map[string]bool{}
		token := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("more than 20 pages")
			}
			page, err := s.gw.ListTransactions(ctx, payment.ListTransactionsRequest{From: from, To: to, PageSize: size, PageToken: token})
			if err != nil {
				t.Fatalf("ListTransactions(token %q): %v", token, err)
			}
			if len(page.Transactions) > size {
				t.Fatalf("page of %d rows, asked %d", len(page.Transactions), size)
			}
			for _, tx := range page.Transactions {
				if ids[tx.ID] {
					t.Errorf("transaction %s listed twice", tx.ID)
				}
				ids[tx.ID] = true
				if tx.Amount.Currency != "USD" || tx.OccurredAt.Before(from) || !tx.OccurredAt.Before(to) {
					t.Errorf("transaction %+v: wrong currency or outside the range", tx)
				}
				key := tx.AttemptID
				if tx.Type == "refund" {
					key = "ref_rec_1"
					if tx.GatewayRefundRef != rf.GatewayRefundRef {
						t.Errorf("refund row names refund %q, want %q", tx.GatewayRefundRef, rf.GatewayRefundRef)
					}
				}
				got[key] = row{tx.Type, tx.AttemptID, tx.GatewayRef, tx.Amount.Amount, tx.Fee.Amount, tx.GatewayRefundRef != ""}
			}
			if token = page.NextPageToken; token == "" {
				return got
			}
		}
	}
	for _, size := range []int{2, 100} {
		t.Run(fmt.Sprintf("page_size_%d", size), func(t *testing.T) {
			if d := cmp.Diff(want, list(from, to, size)); d != "" {
				t.Errorf("transactions (-want +got):\n%s", d)
			}
		})
	}
	t.Run("long_range_in_windows", func(t *testing.T) {
		// 70 days ending now: three Transaction Search windows, the last
		// holding everything.
		if d := cmp.Diff(want, list(to.Add(-70*24*time.Hour), to, 3)); d != "" {
			t.Errorf("transactions (-want +got):\n%s", d)
		}
	})
	t.Run("empty_range", func(t *testing.T) {
		if got := list(from.Add(-48*time.Hour), from.Add(-24*time.Hour), 10); len(got) != 0 {
			t.Errorf("a day before the payments lists %v", got)
		}
	})
	t.Run("bad_token", func(t *testing.T) {
		if _, err := s.gw.ListTransactions(ctx, payment.ListTransactionsRequest{From: from, To: to, PageToken: "x/1"}); err == nil {
			t.Error("a malformed page token was accepted")
		}
	})
}

// TestTransactionSearchRowsKnownShapes converts rows shaped like the
// examples of PayPal's Transaction Search reference (as remembered: a
// T0006 checkout payment with a negative fee, a T1107 refund, a pending
// row, a withdrawal), independently of the sandbox.
func TestTransactionSearchRowsKnownShapes(t *testing.T) {
	g, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		info ppTxInfo
		ok   bool
		want payment.Transaction
	}{
		{"checkout payment", ppTxInfo{ID: "5TY05013RG002845M", EventCode: "T0006", Initiated: "2014-07-11T04:03:52+0000", Status: "S", CustomField: "pay_1",
			Amount: ppMoney{"USD", "465.00"}, Fee: &ppMoney{"USD", "-13.79"}}, true,
			payment.Transaction{ID: "5TY05013RG002845M", Type: "charge", AttemptID: "pay_1", Amount: sdk.Money{Amount: 46500, Currency: "USD"},
				Fee: sdk.Money{Amount: 1379, Currency: "USD"}, OccurredAt: time.Date(2014, 7, 11, 4, 3, 52, 0, time.UTC)}},
		{"refund", ppTxInfo{ID: "1FN09943JY662130R", EventCode: "T1107", Initiated: "2014-07-12T10:00:00Z", Status: "S",
			Amount: ppMoney{"JPY", "-1000"}}, true,
			payment.Transaction{ID: "1FN09943JY662130R", Type: "refund", GatewayRefundRef: "1FN09943JY662130R", Amount: sdk.Money{Amount: -1000, Currency: "JPY"},
				Fee: sdk.Money{Currency: "JPY"}, OccurredAt: time.Date(2014, 7, 12, 10, 0, 0, 0, time.UTC)}},
		{"pending", ppTxInfo{ID: "P1", EventCode: "T0006", Initiated: "2014-07-11T04:03:52+0000", Status: "P", Amount: ppMoney{"USD", "1.00"}}, false, payment.Transaction{}},
		{"withdrawal", ppTxInfo{ID: "W1", EventCode: "T0400", Initiated: "2014-07-11T04:03:52+0000", Status: "S", Amount: ppMoney{"USD", "-100.00"}}, true,
			payment.Transaction{ID: "W1", Type: "payout", Amount: sdk.Money{Amount: -10000, Currency: "USD"}, Fee: sdk.Money{Currency: "USD"},
				OccurredAt: time.Date(2014, 7, 11, 4, 3, 52, 0, time.UTC)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := g.transaction(c.info)
			if err != nil || ok != c.ok {
				t.Fatalf("transaction = %v, %v; want ok %v", ok, err, c.ok)
			}
			if d := cmp.Diff(c.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if _, _, err := g.transaction(ppTxInfo{ID: "B", EventCode: "T0006", Initiated: "yesterday", Status: "S", Amount: ppMoney{"USD", "1.00"}}); err == nil {
		t.Error("a malformed date was accepted")
	}
}
