package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

func TestParseYuan(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0.01", 1, false}, {"12.34", 1234, false}, {"5", 500, false}, {"5.1", 510, false},
		{"-0.07", -7, false}, {"1.234", 0, true}, {"", 0, true}, {"abc", 0, true}, {".5", 0, true},
	}
	for _, tt := range tests {
		got, err := parseYuan(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseYuan(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseBill(t *testing.T) {
	bill := "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n" +
		"`2026-12-05 10:00:00,`wxd678efh567hg6787,`1900000001,`0,`,`4200000001,`pay_bill_0001,`openid,`NATIVE,`SUCCESS,`OTHERS,`CNY,`19.99,`0.00,`0,`0,`0.00,`0.00,`,`,`Order #1,`pay_bill_0001,`0.12,`0.60%,`19.99,`0.00,`\r\n" +
		"`2026-12-05 11:00:00,`wxd678efh567hg6787,`1900000001,`0,`,`4200000001,`pay_bill_0001,`openid,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5030001,`ref_0001,`5.00,`0.00,`ORIGINAL,`SUCCESS,`Order #1,`pay_bill_0001,`-0.03,`0.60%,`0.00,`5.00,`\r\n" +
		"`2026-12-05 12:00:00,`wxd678efh567hg6787,`1900000001,`0,`,`4200000002,`khabcdef0123456789abcdef012345,`openid,`NATIVE,`SUCCESS,`OTHERS,`CNY,`1.00,`0.00,`0,`0,`0.00,`0.00,`,`,`Order #2,`,`0.01,`0.60%,`1.00,`0.00,`\r\n" +
		"总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`3,`20.99,`5.00,`0.00,`0.10,`20.99,`5.00\r\n"
	got, err := parseBill([]byte(bill))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	want := []payment.Transaction{
		{ID: "4200000001", Type: "charge", AttemptID: "pay_bill_0001", GatewayRef: "pay_bill_0001", Amount: sdk.Money{Amount: 1999, Currency: "CNY"}, Fee: sdk.Money{Amount: 12, Currency: "CNY"}, OccurredAt: at},
		{ID: "5030001", Type: "refund", AttemptID: "pay_bill_0001", GatewayRef: "pay_bill_0001", GatewayRefundRef: "5030001", Amount: sdk.Money{Amount: -500, Currency: "CNY"}, Fee: sdk.Money{Amount: -3, Currency: "CNY"}, OccurredAt: at.Add(time.Hour)},
		{ID: "4200000002", Type: "charge", GatewayRef: "khabcdef0123456789abcdef012345", Amount: sdk.Money{Amount: 100, Currency: "CNY"}, Fee: sdk.Money{Amount: 1, Currency: "CNY"}, OccurredAt: at.Add(2 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d transactions: %+v", len(got), got)
	}
	for i := range want {
		if !got[i].OccurredAt.Equal(want[i].OccurredAt) {
			t.Errorf("%d: time %s, want %s", i, got[i].OccurredAt, want[i].OccurredAt)
		}
		got[i].OccurredAt = want[i].OccurredAt
		if got[i] != want[i] {
			t.Errorf("%d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if _, err := parseBill([]byte("not a bill")); err == nil {
		t.Error("garbage parsed as a bill")
	}
}

// TestListTransactions pages through the sandbox's trade bill.
func TestListTransactions(t *testing.T) {
	sb := newSandbox(t)
	g := inProcess(t, sb)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	for _, id := range []string{"pay_list_0001", "pay_list_0002"} {
		res := create(t, g, srv.URL, id, 1000)
		if err := sb.Pay(res.GatewayRef); err != nil {
			t.Fatal(err)
		}
	}
	create(t, g, srv.URL, "pay_list_unpaid", 1000)
	if r, err := g.Refund(ctx, payment.RefundRequest{RefundID: "ref_list_0001", AttemptID: "pay_list_0001", Amount: sdk.Money{Amount: 400, Currency: "CNY"}}); err != nil || r.Status != payment.RefundPending {
		t.Fatalf("refund = %+v, %v", r, err)
	}
	waitUntil(t, "refund success", func() bool {
		r, err := g.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_list_0001"})
		return err == nil && r.Status == payment.RefundSucceeded
	})
	var all []payment.Transaction
	req := payment.ListTransactionsRequest{From: start, To: time.Now().Add(time.Minute), PageSize: 2}
	for pages := 0; ; pages++ {
		page, err := g.ListTransactions(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Transactions) > 2 || pages > 3 {
			t.Fatalf("page of %d, or too many pages", len(page.Transactions))
		}
		all = append(all, page.Transactions...)
		if page.NextPageToken == "" {
			break
		}
		req.PageToken = page.NextPageToken
	}
	var charges, refunds, fees int64
	for _, tx := range all {
		switch tx.Type {
		case "charge":
			charges += tx.Amount.Amount
		case "refund":
			refunds += tx.Amount.Amount
			if tx.GatewayRefundRef == "" || tx.AttemptID != "pay_list_0001" {
				t.Errorf("refund %+v", tx)
			}
		}
		fees += tx.Fee.Amount
		if tx.ID == "" || tx.AttemptID == "" || tx.Amount.Currency != "CNY" {
			t.Errorf("transaction %+v", tx)
		}
	}
	if len(all) != 3 || charges != 2000 || refunds != -400 || fees != 6+6-2 {
		t.Errorf("transactions %+v: charges %d refunds %d fees %d", all, charges, refunds, fees)
	}
	empty, err := g.ListTransactions(ctx, payment.ListTransactionsRequest{From: start.AddDate(0, 0, -3), To: start.AddDate(0, 0, -2)})
	if err != nil || len(empty.Transactions) != 0 {
		t.Errorf("days without a bill = %+v, %v", empty, err)
	}
}
