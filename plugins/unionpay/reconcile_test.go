package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/unionpay/internal/sandbox"
)

// TestListTransactions reconciles through the sandbox's file transfer
// (txnType 76): the day's ZM file lists the consumptions as charges of
// their attempts and the partial refund as a negative refund row of its
// attempt, with the fees; pages are followed to the end; a day with no
// file lists nothing.
func TestListTransactions(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	from := time.Now().Add(-time.Minute)
	amounts := map[string]int64{"pay_rec_1": 1000, "pay_rec_2": 2500, "pay_rec_3": 399}
	orders := map[string]string{}
	for id, fen := range amounts {
		res := s.create(t, id, fen)
		form := s.open(t, res)
		if err := s.sb.Pay(form.Get("orderId"), "00"); err != nil {
			t.Fatal(err)
		}
		orders[id] = form.Get("orderId")
		if res.GatewayRef != orders[id] {
			t.Fatalf("gateway ref %q, posted orderId %q", res.GatewayRef, orders[id])
		}
	}
	// A declined card moved no money: not listed.
	declined := s.create(t, "pay_rec_declined", 500)
	if err := s.sb.Pay(s.open(t, declined).Get("orderId"), "64"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the payments' notifications", func() bool {
		return len(s.eventsOf("pay_rec_1", payment.EventPaymentSucceeded))+len(s.eventsOf("pay_rec_2", payment.EventPaymentSucceeded))+
			len(s.eventsOf("pay_rec_3", payment.EventPaymentSucceeded)) == 3
	})
	rf, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: "ref_rec_1", AttemptID: "pay_rec_2", GatewayRef: orders["pay_rec_2"],
		Amount: sdk.Money{Amount: 700, Currency: "CNY"}})
	if err != nil || rf.Status != payment.RefundSucceeded {
		t.Fatalf("Refund = %+v, %v", rf, err)
	}
	to := time.Now().Add(time.Minute)

	type row struct {
		Type, AttemptID, GatewayRef, GatewayRefundRef string
		Amount, Fee                                   int64
	}
	want := map[string]row{
		"pay_rec_1": {"charge", "pay_rec_1", orders["pay_rec_1"], "", 1000, sandbox.Fee(1000)},
		"pay_rec_2": {"charge", "pay_rec_2", orders["pay_rec_2"], "", 2500, sandbox.Fee(2500)},
		"pay_rec_3": {"charge", "pay_rec_3", orders["pay_rec_3"], "", 399, sandbox.Fee(399)},
		"ref_rec_1": {"refund", "pay_rec_2", orders["pay_rec_2"], rf.GatewayRefundRef, -700, -sandbox.Fee(700)},
	}
	list := func(t *testing.T, from, to time.Time, size int) map[string]row {
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
				if ids[tx.ID] || len(tx.ID) != 21 {
					t.Errorf("transaction id %q listed twice or not a 21-character queryId", tx.ID)
				}
				ids[tx.ID] = true
				if tx.Amount.Currency != "CNY" || tx.OccurredAt.Before(from.Truncate(time.Second)) || !tx.OccurredAt.Before(to) {
					t.Errorf("transaction %+v: wrong currency or outside the range", tx)
				}
				key := tx.AttemptID
				if tx.Type == "refund" {
					key = "ref_rec_1"
				}
				got[key] = row{tx.Type, tx.AttemptID, tx.GatewayRef, tx.GatewayRefundRef, tx.Amount.Amount, tx.Fee.Amount}
			}
			if token = page.NextPageToken; token == "" {
				return got
			}
		}
	}
	for _, size := range []int{2, 100} {
		t.Run(fmt.Sprintf("page_size_%d", size), func(t *testing.T) {
			// The trace time has whole seconds: start the range at the
			// second the first payment was made in.
			if d := cmp.Diff(want, list(t, from.Truncate(time.Second), to, size)); d != "" {
				t.Errorf("transactions (-want +got):\n%s", d)
			}
		})
	}
	t.Run("days_without_files", func(t *testing.T) {
		if got := list(t, from.Add(-72*time.Hour), from.Add(-24*time.Hour), 10); len(got) != 0 {
			t.Errorf("days before the payments list %v", got)
		}
	})
	t.Run("bad_token", func(t *testing.T) {
		if _, err := s.gw.ListTransactions(ctx, payment.ListTransactionsRequest{From: from, To: to, PageToken: "1999-01-01/0"}); err == nil {
			t.Error("a page token outside the range was accepted")
		}
	})
}

// TestParseZMLine checks the fixed-width reading against a line built by
// hand from the field widths (not by the sandbox), across a year end.
func TestParseZMLine(t *testing.T) {
	g, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	f := make([]string, len(zmFields))
	f[0], f[4], f[6], f[9], f[11], f[15], f[19], f[27] = "S22", "1231235959", "000000012345", "123456789012345678901", "kassa0001", "D000000000074", "01", "777290058110048"
	var b strings.Builder
	for i, w := range zmFields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f[i] + strings.Repeat(" ", w-len(f[i])))
	}
	settle := time.Date(2027, 1, 1, 0, 0, 0, 0, chinaTime)
	txs, err := g.parseZM([]byte(b.String()+"\r\n"), "777290058110048", settle)
	if err != nil {
		t.Fatal(err)
	}
	want := []payment.Transaction{{ID: "123456789012345678901", Type: "charge", GatewayRef: "kassa0001", Amount: sdk.Money{Amount: 12345, Currency: "CNY"},
		Fee: sdk.Money{Amount: 74, Currency: "CNY"}, OccurredAt: time.Date(2026, 12, 31, 23, 59, 59, 0, chinaTime)}}
	if d := cmp.Diff(want, txs, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if other, err := g.parseZM([]byte(b.String()), "898000000000001", settle); err != nil || len(other) != 0 {
		t.Errorf("another merchant's line = %v, %v; want skipped", other, err)
	}
	if _, err := g.parseZM([]byte("S22 short line"), "777290058110048", settle); err == nil {
		t.Error("a short line was accepted")
	}
}
